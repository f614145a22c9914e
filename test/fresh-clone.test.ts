import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

// A clone of this repository's HEAD into an empty directory (no shared/ beside it) works: the
// README's first command (install, build, plan the finance example) succeeds there, and the
// test files that read the corpus run inside the clone and pass. The clone is
// made with core.autocrlf=true, the setting that would rewrite line endings on checkout, to show
// that .gitattributes keeps the corpus byte for byte. Only committed files are in the clone.
//
// This does not run the whole suite in the clone (that would run this test again, and the full
// run is CI's), and it does not show that the Debian tools get installed on a machine without
// them (test/test-prereqs.test.ts covers scripts/test-prereqs.mjs). pnpm installs from its store.
const repo = join(import.meta.dirname, '..')
const CORPUS_TESTS = [
  'packages/hosts/test/corpus.test.ts',
  'packages/sudoers/test/corpus.test.ts',
  'packages/zone/test/corpus.test.ts',
  'packages/sqlfn/test/split.test.ts',
  'packages/formats/test/ini.test.ts',
  'packages/formats/test/json.test.ts',
  'packages/formats/test/yaml-corpus.test.ts',
  'packages/formats/test/php.test.ts',
  'packages/formats/test/php-lint-batch.test.ts',
  'test/corpus.test.ts',
]

const top = tempDir('cutover-clone-')
const clone = join(top, 'cutover')
afterAll(() => rmSync(top, { recursive: true, force: true }))

function files(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory() ? files(join(dir, e.name), base) : [join(dir, e.name).slice(base.length + 1)],
    )
    .sort()
}

// the inner vitest must not take this run's worker settings for its own
const env = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST') && k !== 'NODE_OPTIONS'),
)

/** What to show of a failed command's output: the failed tests of a JSON report, else its end. */
function failures(out: string): string {
  try {
    const report = JSON.parse(out.slice(out.indexOf('{'))) as {
      testResults: Array<{
        name: string
        assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }>
      }>
    }
    return report.testResults
      .flatMap((t) =>
        t.assertionResults
          .filter((a) => a.status === 'failed')
          .map((a) => `${t.name}: ${a.fullName}\n${a.failureMessages[0]?.split('\n')[0] ?? ''}`),
      )
      .join('\n')
  } catch {
    return out.slice(-4000)
  }
}

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { cwd: clone, env, encoding: 'utf8', maxBuffer: 64 << 20 })
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${failures(r.stdout)}\n${r.stderr.slice(-4000)}`,
    )
  return r.stdout
}

describe('a fresh clone', () => {
  it("has the corpus byte for byte, runs the README's first command, and its corpus tests pass there", () => {
    execFileSync('git', [
      '-c',
      'core.autocrlf=true',
      'clone',
      '--quiet',
      '--no-hardlinks',
      '--config',
      'core.autocrlf=true',
      repo,
      clone,
    ])
    expect(readdirSync(top)).toEqual(['cutover'])
    expect(existsSync(join(dirname(clone), 'shared'))).toBe(false)

    const corpus = join(repo, 'test/corpus')
    const cloned = join(clone, 'test/corpus')
    expect(files(cloned)).toEqual(files(corpus))
    const differ = files(corpus).filter(
      (f) => !readFileSync(join(corpus, f)).equals(readFileSync(join(cloned, f))),
    )
    expect(differ).toEqual([])

    // the README's first command, as it is written there: install, build, plan the finance example
    // (autocrlf gave the clone's README CRLF line ends)
    const block =
      /## Two commands[\s\S]*?```sh\r?\n([\s\S]*?)```/.exec(
        readFileSync(join(clone, 'README.md'), 'utf8'),
      )?.[1] ?? ''
    const first = block.split(/\r?\n/).find((l) => l.trim() !== '' && !l.startsWith('#'))!
    expect(first).toContain('pnpm install')
    expect(sh('sh', ['-c', first])).toContain('Plan for profile test:')
    const out = sh(join(clone, 'node_modules/.bin/vitest'), [
      'run',
      '--reporter=json',
      ...CORPUS_TESTS,
    ])
    const report = JSON.parse(out.slice(out.indexOf('{'))) as {
      numFailedTests: number
      numPassedTests: number
      testResults: Array<{ name: string; status: string }>
    }
    expect(
      report.testResults.map((t) => [t.name.slice(clone.length + 1), t.status]).sort(),
    ).toEqual(CORPUS_TESTS.map((t) => [t, 'passed']).sort())
    expect(report.numFailedTests).toBe(0)
    expect(report.numPassedTests).toBeGreaterThan(300)
  }, 600_000)
})
