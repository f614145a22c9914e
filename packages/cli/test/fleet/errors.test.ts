import { FleetError } from '@cutover/fleet'
import { CutoverError } from '@cutover/rewrite'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/io.js'
import { describeError } from '../../src/output/errors.js'

describe('FleetError', () => {
  it('is a refusal the CLI prints as `cutover: message`, without a stack', () => {
    const e = new FleetError('UNREACHABLE', 'finance: cannot connect: Connection refused')
    expect(e).toBeInstanceOf(CutoverError)
    expect(e.code).toBe('UNREACHABLE')
    const text = describeError(e, memoryIo({ env: { CUTOVER_DEBUG: '1' } }))
    expect(text).toBe('cutover: finance: cannot connect: Connection refused')
  })
})
