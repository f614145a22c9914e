import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import fg from 'fast-glob'
import fc from 'fast-check'
import picomatch from 'picomatch'
import { describe, expect, it } from 'vitest'
import { discoverFiles } from '../src/index.js'
import { discoverCache } from '../src/discover.js'

// discoverFiles walks the tree itself (one listing per directory, shared by the steps of a plan)
// and matches with picomatch; fast-glob, which it replaced, is the reference for what it finds.
// One difference is deliberate: `./etc/*.conf` finds `etc/app.conf`, where fast-glob answered
// `./etc/app.conf`, a second name for the same target; the reference gets the glob without `./`.
function reference(root: string, files: string[], exclude: string[] = []): Promise<string[]> {
  const strip = (g: string) => g.replace(/^(?:\.?\/+)+/, '')
  return fg(files.map(strip), { cwd: root, dot: true, onlyFiles: true, followSymbolicLinks: true, unique: true, ignore: exclude.map(strip), suppressErrors: true }).then((f) => f.sort())
}

function tree(paths: string[]): string {
  const root = mkdtempSync(join(tmpdir(), 'cutover-discover-'))
  for (const p of paths) {
    mkdirSync(dirname(join(root, p)), { recursive: true })
    writeFileSync(join(root, p), p)
  }
  return root
}

const PATHS = [
  'etc/hosts', 'etc/sudoers', 'etc/sudoers.d/app', 'etc/.hidden/x.conf', 'etc/app.conf', 'etc/php/8.2/cli/php.ini',
  'var/www/finance/config.php', 'var/www/finance/vendor/lib/config.php', 'var/www/hr/config.php', 'var/www/hr/.env',
  'var/www/hr/node_modules/x/index.js', 'srv/a.b/c.php', 'srv/x.bak/inner.php', 'notes.txt', '.top.ini', 'a.php',
]
const GLOBS = [
  ['**/*.php'], ['etc/hosts'], ['/etc/hosts'], ['var/www/*/config.php'], ['**/*.{ini,conf}'], ['etc/**'], ['**'], ['*.php'],
  ['{etc,srv}/*'], ['etc/sudoers.d/*', 'etc/sudoers'], ['**/config.php', 'var/**/config.php'], ['./etc/*.conf'], ['srv/*.b/*.php'],
  ['etc/php/**/php.ini'], ['missing/**'], ['etc/nope'], ['**/.env'], ['etc/+(hosts|sudoers)'],
]
const EXCLUDES = [[], ['**/vendor/**'], ['**/node_modules'], ['var/www/hr'], ['**/*.bak'], ['etc/**'], ['**/.*'], ['**/*.php'], ['/etc/hosts']]

describe('discoverFiles', () => {
  it('finds what fast-glob finds for every pattern and exclude here', async () => {
    const root = tree(PATHS)
    for (const files of GLOBS) for (const exclude of EXCLUDES) {
      const got = await discoverFiles(root, { files, exclude })
      expect({ files, exclude, got }).toEqual({ files, exclude, got: await reference(root, files, exclude) })
    }
  })

  it('gives the same answers from a shared cache of listings', async () => {
    const root = tree(PATHS)
    const cache = discoverCache()
    for (const files of GLOBS) expect(await discoverFiles(root, { files, cache })).toEqual(await reference(root, files))
  })

  it('agrees with fast-glob on random trees and patterns', async () => {
    const seg = fc.constantFrom('a', 'b', '.d', 'x.php', 'y.ini', 'conf', 'z.b')
    const pathArb = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'))
    // no `?`: fast-glob does not match it in a directory part (`?/a` misses `b/a`, `x?php/a`
    // misses `x.php/a`) where picomatch, and discoverFiles, do
    const globSeg = fc.constantFrom('a', 'b', '*', '**', '*.php', '.d', '*.{php,ini}', 'conf', 'z.*', '[ab]', '*.b')
    const globArb = fc.array(globSeg, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'))
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(pathArb, { maxLength: 12 }), fc.array(globArb, { minLength: 1, maxLength: 2 }), fc.array(globArb, { maxLength: 2 }), async (paths, files, exclude) => {
        // a path that is also a directory of another path cannot be a file
        const ok = paths.filter((p) => !paths.some((q) => q.startsWith(`${p}/`)))
        // fast-glob finds a file `a/b` with `a/b/**` only when another glob is given; discoverFiles never does
        fc.pre(!files.some((g) => g.endsWith('/**') && ok.some((p) => picomatch(g.slice(0, -3), { dot: true })(p))))
        const root = tree(ok)
        expect(await discoverFiles(root, { files, exclude })).toEqual(await reference(root, files, exclude))
      }),
      { numRuns: 200 },
    )
  })

  it('does not take a file for the directory of a `dir/**` glob, nor miss `?` as a whole part', async () => {
    const root = tree(['a/b', 'c/d/e.conf', 'x/a'])
    expect(await discoverFiles(root, { files: ['a/b/**', 'z.*'] })).toEqual([])
    expect(await discoverFiles(root, { files: ['c/**'] })).toEqual(['c/d/e.conf'])
    expect(await discoverFiles(root, { files: ['?/a'] })).toEqual(['x/a'])
    expect(await discoverFiles(root, { files: ['?/d/*.c?nf'] })).toEqual(['c/d/e.conf'])
  })

  it('follows links to files and directories, skips dangling links, and walks a loop once', async () => {
    const root = tree(['real/a.conf', 'real/sub/b.conf', 'other/c.conf'])
    symlinkSync('../other', join(root, 'real/linked'))
    symlinkSync('a.conf', join(root, 'real/alias.conf'))
    symlinkSync('nowhere.conf', join(root, 'real/dangling.conf'))
    symlinkSync('..', join(root, 'real/sub/up'))
    const got = await discoverFiles(root, { files: ['real/**/*.conf'] })
    expect(got).toEqual(['real/a.conf', 'real/alias.conf', 'real/linked/c.conf', 'real/sub/b.conf'])
  })

  it('passes over a directory it cannot read', async () => {
    const root = tree(['ok/a.conf', 'closed/b.conf'])
    chmodSync(join(root, 'closed'), 0o000)
    try {
      if (process.getuid?.() !== 0) {
        expect(await discoverFiles(root, { files: ['**/*.conf'] })).toEqual(['ok/a.conf'])
        return
      }
      // root reads every directory: the walk runs as nobody, from the built module
      chmodSync(root, 0o755)
      const dist = new URL('../dist/discover.js', import.meta.url).href
      const script = `import(${JSON.stringify(dist)}).then(async (m) => console.log(JSON.stringify(await m.discoverFiles(${JSON.stringify(root)}, { files: ['**/*.conf'] }))))`
      const out = execFileSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' })
      expect(JSON.parse(out)).toEqual(['ok/a.conf'])
    } finally {
      chmodSync(join(root, 'closed'), 0o755)
    }
  })
})
