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

describe('a command on a machine that outruns the tool timeout', () => {
  it('is printed as the refusal it is, naming the limit and how to raise it, not as an internal error', async () => {
    const { localExec } = await import('@cutover/fleet')
    const before = process.env.CUTOVER_TOOL_TIMEOUT_MS
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '200'
    try {
      const e = await localExec('sleep 5').then(
        () => undefined,
        (x: unknown) => x,
      )
      expect(describeError(e, memoryIo({ env: {} }))).toBe(
        'cutover: a command (sh -c) ran longer than 0.2 s and was killed (CUTOVER_TOOL_TIMEOUT_MS sets the limit, in milliseconds)',
      )
    } finally {
      if (before === undefined) delete process.env.CUTOVER_TOOL_TIMEOUT_MS
      else process.env.CUTOVER_TOOL_TIMEOUT_MS = before
    }
  })
})
