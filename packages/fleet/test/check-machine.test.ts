import { describe, expect, it } from 'vitest'
import { localMachine } from '../src/local-machine.js'
import type { Machine } from '../src/machine.js'
import { commandRows, ENDS, ENDS_GOT, left } from './command-ends.js'

describe('checkMachine: the command checks on this machine', () => {
  it('reports a command that outlives its limit as not finished, whether it obeys TERM or must be killed, and a SIGKILL of its own as its exit', async () => {
    const m = localMachine({ name: 'here', root: '/' })
    expect(await commandRows(m, ENDS)).toEqual(ENDS_GOT)
    // the command that ignored TERM was killed, not left running
    expect(await left()).toEqual([])
  })

  it("tells them apart whatever the machine's environment holds", async () => {
    // a machine whose environment has the names of the command's parent's variables
    const here = localMachine({ name: 'here', root: '/' })
    const m: Machine = {
      ...here,
      exec: (script, o) =>
        here.exec(`cutover_t=1 cutover_c=0; export cutover_t cutover_c; ${script}`, o),
    }
    // the ends that do not wait for a limit: a SIGKILL of its own and an exit 124 are its exits
    const fast = ENDS.filter((c) => c.timeout === 5000)
    expect(await commandRows(m, fast)).toEqual(
      ENDS_GOT.filter((row) => fast.some((c) => row[0] === `command ${c.command}`)),
    )
  })
})
