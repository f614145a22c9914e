import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import config from '../vitest.config.js'
import { fileTimes, longestFirst, LongestFirst } from './file-order.js'
import { tempDir } from '@cutover/test-kit/temp'

const repo = resolve(import.meta.dirname, '..')
const tmp = tempDir('cutover-file-order-')
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

const file = (path: string, isolated: boolean, group = 0) => ({ path, isolated, group })

describe('the order of the suite (longest first)', () => {
  it('starts the isolated files longest first, an untimed one before them, and the shared-worker files after them in their order', () => {
    const files = [
      file('packages/a/test/unit-b.test.ts', false),
      file('packages/a/test/unit-a.test.ts', false),
      file('test/short.test.ts', true),
      file('packages/cli/test/new.test.ts', true),
      file('test/temp-left.test.ts', true, 1),
      file('test/long.test.ts', true),
      file('packages/cli/test/middle.test.ts', true),
      file('packages/cli/test/also-middle.test.ts', true),
    ]
    const seconds = {
      'packages/a/test/unit-a.test.ts': 50,
      'test/short.test.ts': 2,
      'test/long.test.ts': 139,
      'packages/cli/test/middle.test.ts': 40,
      'packages/cli/test/also-middle.test.ts': 40,
      'test/temp-left.test.ts': 500,
    }
    expect(longestFirst(files, seconds).map((f) => f.path)).toEqual([
      'packages/cli/test/new.test.ts',
      'test/long.test.ts',
      'packages/cli/test/middle.test.ts',
      'packages/cli/test/also-middle.test.ts',
      'test/short.test.ts',
      'packages/a/test/unit-b.test.ts',
      'packages/a/test/unit-a.test.ts',
      'test/temp-left.test.ts',
    ])
  })

  it('reads the times of test/file-times.json, and none from a missing or broken file', () => {
    const times = fileTimes(join(repo, 'test/file-times.json'))
    expect(times['test/crash.test.ts']).toBeGreaterThan(0)
    expect(fileTimes(join(tmp, 'absent.json'))).toEqual({})
    writeFileSync(join(tmp, 'broken.json'), '{"seconds": ')
    expect(fileTimes(join(tmp, 'broken.json'))).toEqual({})
  })

  it("sorts vitest's specifications by the repository's times", async () => {
    const project = (name: string, isolate: boolean) => ({
      name,
      config: { isolate, sequence: { groupOrder: 0 } },
    })
    const slow = project('slow', true)
    const ssh = project('ssh', true)
    const unit = project('unit', false)
    const spec = (p: ReturnType<typeof project>, path: string) => ({
      project: p,
      moduleId: join(repo, path),
    })
    const specs = [
      spec(unit, 'packages/hosts/test/parse.test.ts'),
      spec(slow, 'test/pack.test.ts'),
      spec(ssh, 'packages/cli/test/fleet/examples-ssh.test.ts'),
      spec(slow, 'test/crash.test.ts'),
    ]
    const ctx = {
      config: { root: repo },
      cache: { getFileTestResults: () => undefined, getFileStats: () => undefined },
    }
    const times = fileTimes(join(repo, 'test/file-times.json'))
    const byTime = specs
      .slice(1)
      .map((s) => s.moduleId.slice(repo.length + 1))
      .sort((a, b) => times[b]! - times[a]!)
    const sequencer = new LongestFirst(ctx as never)
    const sorted = await sequencer.sort(specs as never)
    expect(
      (sorted as unknown as typeof specs).map((s) => s.moduleId.slice(repo.length + 1)),
    ).toEqual([...byTime, 'packages/hosts/test/parse.test.ts'])
  })

  it("makes test/file-times.json from a run's JSON report, keeping the repository's part of each path", () => {
    // a checkout whose own path holds test/ and packages/
    const at = '/home/u/test/packages/cutover'
    const report = join(tmp, 'report.json')
    writeFileSync(
      report,
      JSON.stringify({
        testResults: [
          { name: `${at}/packages/cli/test/cli.test.ts`, startTime: 1000, endTime: 4420 },
          { name: `${at}/test/crash.test.ts`, startTime: 0, endTime: 139_040 },
          { name: `${at}/test/gone.test.ts`, startTime: 0, endTime: 1000 },
        ],
      }),
    )
    const out = join(tmp, 'file-times.json')
    execFileSync(process.execPath, [join(repo, 'scripts/file-times.mjs'), report, 'a run', out])
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual({
      how: 'a run',
      seconds: { 'packages/cli/test/cli.test.ts': 3.4, 'test/crash.test.ts': 139 },
    })
  })

  it("is the run's sequencer", () => {
    expect(config.test?.sequence?.sequencer).toBe(LongestFirst)
  })
})
