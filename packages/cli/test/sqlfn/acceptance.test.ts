import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
// the CLI drives the built packages (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import {
  SECRET,
  financeDump,
  liveResult,
  original,
  spec,
  testResult,
} from '@cutover/test-kit/finance-dump'
import { tempDir } from '@cutover/test-kit/temp'

const TARGET = 'backup/finance-schema.sql'

function tree(): string {
  const dir = tempDir('cutover-sql-')
  writeFileSync(join(dir, 'cutover.yaml'), spec)
  mkdirSync(join(dir, 'root/backup'), { recursive: true })
  writeFileSync(join(dir, 'root', TARGET), financeDump(original))
  return dir
}

async function cli(
  dir: string,
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({ cwd: dir, env: { FINANCE_DB_PASSWORD: SECRET } })
  const code = await run(
    [...args, '--spec', join(dir, 'cutover.yaml'), '--root', join(dir, 'root')],
    io,
  )
  return { code, out: io.out(), err: io.err() }
}

describe('issue 6 acceptance: a finance schema dump through `cutover apply`', () => {
  it('apply --profile test, then --profile live, give the expected bytes; the test dump publishes test keys', async () => {
    const dir = tree()
    const file = join(dir, 'root', TARGET)

    const plan = await cli(dir, 'plan', '--profile', 'test', '--json')
    expect(plan.code, plan.err).toBe(0)
    const doc = JSON.parse(plan.out)
    expect(plan.out).not.toContain('s3cr3t')
    const reasons = doc.leftovers.map(
      (l: { text: string; reason: string }) => `${l.text}: ${l.reason}`,
    )
    expect(reasons).toEqual([
      expect.stringMatching(
        /^10\.0\.10\.48: old address: inside a comment in function public\.amqp_staff/,
      ),
      expect.stringMatching(/^oas\.staff: near-miss: "oas\.staff" inside "oas\.staff\.extra"/),
      expect.stringMatching(
        /^oas\.staff: variant of another profile than "test": in function public\.default_key, which functions: does not select/,
      ),
    ])

    const test = await cli(dir, 'apply', '--profile', 'test', '--yes')
    expect(test.code, test.err).toBe(0)
    expect(test.out + test.err).not.toContain('s3cr3t')
    expect(readFileSync(file, 'utf8')).toBe(financeDump(testResult))

    const again = await cli(dir, 'plan', '--profile', 'test', '--detailed-exitcode')
    expect(again.code, again.out).toBe(0)

    const live = await cli(dir, 'apply', '--profile', 'live', '--yes')
    expect(live.code, live.err).toBe(0)
    expect(readFileSync(file, 'utf8')).toBe(financeDump(liveResult))
  })
})
