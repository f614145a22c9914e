import { describe, expect, it } from 'vitest'
import { localMachine } from '../src/local-machine.js'
import { commandRows, ENDS, ENDS_GOT, left } from './command-ends.js'

describe('checkMachine: the command checks on this machine', () => {
  it('reports a command that outlives its limit as not finished, whether it obeys TERM or must be killed, and a SIGKILL of its own as its exit', async () => {
    const m = localMachine({ name: 'here', root: '/' })
    expect(await commandRows(m, ENDS)).toEqual(ENDS_GOT)
    // the command that ignored TERM was killed, not left running
    expect(await left()).toEqual([])
  })
})
