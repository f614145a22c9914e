import { execFileSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CORPUS, corpusPath, manifestFiles } from '@cutover/test-kit'

const repo = join(import.meta.dirname, '..')

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  )
}

// The corpus lives in the repository (test/corpus), so that a clone has everything its tests read.
describe('the corpus in the repository', () => {
  const listed = manifestFiles()
  const present = walk(CORPUS)
    .map((f) => relative(CORPUS, f))
    .filter((f) => f !== 'MANIFEST.md')
    .sort()

  it('holds exactly the files its MANIFEST lists, each with the byte count recorded there', () => {
    expect(listed.length).toBeGreaterThanOrEqual(300)
    expect(present).toEqual(listed.map((f) => f.path).sort())
    const wrong = listed
      .filter((f) => statSync(corpusPath(f.path)).size !== f.bytes)
      .map((f) => `${f.path}: ${statSync(corpusPath(f.path)).size} bytes, MANIFEST says ${f.bytes}`)
    expect(wrong).toEqual([])
  })

  it('is kept byte for byte by git (no end-of-line conversion)', () => {
    const out = execFileSync('git', ['check-attr', 'text', '--stdin'], {
      cwd: repo,
      input: present.map((f) => `test/corpus/${f}`).join('\n') + '\n',
      encoding: 'utf8',
    })
    const converted = out.split('\n').filter((l) => l !== '' && !l.endsWith(': text: unset'))
    expect(converted).toEqual([])
    // CRLF files stay CRLF (WordPress's sample is the one the MANIFEST names)
    expect(readFileSync(corpusPath('php', 'wordpress_wp-config-sample.php'), 'latin1')).toContain(
      '\r\n',
    )
  })

  it('is the only corpus the tests read: no test reaches outside the repository', () => {
    const tests = [
      ...readdirSync(join(repo, 'packages')).flatMap((p) => {
        const dir = join(repo, 'packages', p, 'test')
        try {
          return walk(dir)
        } catch {
          return []
        }
      }),
      ...walk(join(repo, 'test')).filter((f) => !f.startsWith(CORPUS)),
    ].filter((f) => /\.(ts|mjs|js)$/.test(f))
    expect(tests.length).toBeGreaterThan(20)
    // the old corpus beside the repository, or a path from the test's own location that climbs above it
    const climbs = (f: string) => {
      const depth = relative(repo, dirname(f)).split('/').length
      return readFileSync(f, 'utf8')
        .split('\n')
        .some(
          (l) =>
            /import\.meta\.(dirname|url)/.test(l) &&
            (l.match(/['"`]((?:\.\.\/?)+)/)?.[1]?.split('..').length ?? 1) - 1 > depth,
        )
    }
    const outside = tests
      .filter((f) => /\.\.\/shared\b|shared\/corpus/.test(readFileSync(f, 'utf8')) || climbs(f))
      .map((f) => relative(repo, f))
    expect(outside).toEqual([])
  })
})
