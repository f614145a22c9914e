import { readFileSync } from 'node:fs'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { at, ENV, hashOf, tree } from './kit.js'

// A plan of large files costs as much to serialize as to write: `plan --out` serializes the
// document once, hashing the pieces as they are written, as `plan --json` serializes it once to
// stdout (the planning before both is the same, so are its own calls).
describe('plan --out', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  /** How many times JSON.stringify runs for `cutover plan` with these flags. */
  async function stringifies(dir: string, flags: string[]) {
    const io = memoryIo({ cwd: dir, env: ENV })
    const count = vi.spyOn(JSON, 'stringify')
    const code = await run(['plan', '--root', 'root', ...flags], io)
    const n = count.mock.calls.length
    count.mockRestore()
    return { code, n, io }
  }

  it('serializes the plan document once, as --json does, and names the hash of what it wrote', async () => {
    const dir = tree()
    const json = await stringifies(dir, ['--json'])
    expect(json.code).toBe(0)
    const out = await stringifies(dir, ['--out', 'plan.json'])
    expect(out.code).toBe(0)
    expect(out.n).toBe(json.n)
    expect(out.io.out()).toContain(`Plan saved to plan.json, ${hashOf(at(dir, 'plan.json'))} `)
    expect(JSON.parse(readFileSync(at(dir, 'plan.json'), 'utf8'))).toMatchObject({ version: 1 })
  })
})
