import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import fg from 'fast-glob'
import fc from 'fast-check'
import picomatch from 'picomatch'
import { describe, expect, it, onTestFinished } from 'vitest'
import { discoverEach, discoverFiles } from '../src/plan/discover.js'
import { discoverCache } from '../src/plan/discover.js'
import { tempDir } from '@cutover/test-kit/temp'
import { createEngine, textStep } from '../src/index.js'

// discoverFiles walks the tree itself (one listing per directory, shared by the steps of a plan)
// and matches with picomatch; fast-glob, which it replaced, is the reference for what it finds.
// One difference is deliberate: `./etc/*.conf` finds `etc/app.conf`, where fast-glob answered
// `./etc/app.conf`, a second name for the same target; the reference gets the glob without `./`.
function reference(root: string, files: string[], exclude: string[] = []): Promise<string[]> {
  const strip = (g: string) => g.replace(/^(?:\.?\/+)+/, '')
  return fg(files.map(strip), {
    cwd: root,
    dot: true,
    onlyFiles: true,
    followSymbolicLinks: true,
    unique: true,
    ignore: exclude.map(strip),
    suppressErrors: true,
  }).then((f) => f.sort())
}

function tree(paths: string[]): string {
  const root = tempDir('cutover-discover-')
  for (const p of paths) {
    mkdirSync(dirname(join(root, p)), { recursive: true })
    writeFileSync(join(root, p), p)
  }
  return root
}

const PATHS = [
  'etc/hosts',
  'etc/sudoers',
  'etc/sudoers.d/app',
  'etc/.hidden/x.conf',
  'etc/app.conf',
  'etc/php/8.2/cli/php.ini',
  'var/www/finance/config.php',
  'var/www/finance/vendor/lib/config.php',
  'var/www/hr/config.php',
  'var/www/hr/.env',
  'var/www/hr/node_modules/x/index.js',
  'srv/a.b/c.php',
  'srv/x.bak/inner.php',
  'notes.txt',
  '.top.ini',
  'a.php',
]
const GLOBS = [
  ['**/*.php'],
  ['etc/hosts'],
  ['/etc/hosts'],
  ['var/www/*/config.php'],
  ['**/*.{ini,conf}'],
  ['etc/**'],
  ['**'],
  ['*.php'],
  ['{etc,srv}/*'],
  ['etc/sudoers.d/*', 'etc/sudoers'],
  ['**/config.php', 'var/**/config.php'],
  ['./etc/*.conf'],
  ['srv/*.b/*.php'],
  ['etc/php/**/php.ini'],
  ['missing/**'],
  ['etc/nope'],
  ['**/.env'],
  ['etc/+(hosts|sudoers)'],
]
const EXCLUDES = [
  [],
  ['**/vendor/**'],
  ['**/node_modules'],
  ['var/www/hr'],
  ['**/*.bak'],
  ['etc/**'],
  ['**/.*'],
  ['**/*.php'],
  ['/etc/hosts'],
]

describe('discoverFiles', () => {
  it('finds what fast-glob finds for every pattern and exclude here', async () => {
    const root = tree(PATHS)
    for (const files of GLOBS)
      for (const exclude of EXCLUDES) {
        const got = await discoverFiles(root, { files, exclude })
        expect({ files, exclude, got }).toEqual({
          files,
          exclude,
          got: await reference(root, files, exclude),
        })
      }
  })

  it('gives the same answers from a shared cache of listings', async () => {
    const root = tree(PATHS)
    const cache = discoverCache()
    for (const files of GLOBS)
      expect(await discoverFiles(root, { files, cache })).toEqual(await reference(root, files))
  })

  it('agrees with fast-glob on random trees and patterns', async () => {
    const seg = fc.constantFrom('a', 'b', '.d', 'x.php', 'y.ini', 'conf', 'z.b')
    const pathArb = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => s.join('/'))
    // no `?`: fast-glob does not match it in a directory part (`?/a` misses `b/a`, `x?php/a`
    // misses `x.php/a`) where picomatch, and discoverFiles, do
    const globSeg = fc.constantFrom(
      'a',
      'b',
      '*',
      '**',
      '*.php',
      '.d',
      '*.{php,ini}',
      'conf',
      'z.*',
      '[ab]',
      '*.b',
    )
    const globArb = fc.array(globSeg, { minLength: 1, maxLength: 3 }).map((s) => s.join('/'))
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(pathArb, { maxLength: 12 }),
        fc.array(globArb, { minLength: 1, maxLength: 2 }),
        fc.array(globArb, { maxLength: 2 }),
        async (paths, files, exclude) => {
          // a path that is also a directory of another path cannot be a file
          const ok = paths.filter((p) => !paths.some((q) => q.startsWith(`${p}/`)))
          // fast-glob finds a file `a/b` with `a/b/**` only when another glob is given; discoverFiles never does
          fc.pre(
            !files.some(
              (g) =>
                g.endsWith('/**') && ok.some((p) => picomatch(g.slice(0, -3), { dot: true })(p)),
            ),
          )
          const root = tree(ok)
          expect(await discoverFiles(root, { files, exclude })).toEqual(
            await reference(root, files, exclude),
          )
        },
      ),
      { numRuns: 200 },
    )
  })

  it('finds for several entries, in one walk, what each finds alone, problems included', async () => {
    const root = tree(PATHS)
    onTestFinished(() => rmSync(root, { recursive: true, force: true }))
    symlinkSync('../etc', join(root, 'srv/etc-link'))
    symlinkSync('..', join(root, 'var/www/up'))
    symlinkSync('../../../outside', join(root, 'var/www/out'))
    // each glob list with an exclude list, two walks from the root and others from their directory
    const entries = GLOBS.map((files, i) => ({ files, exclude: EXCLUDES[i % EXCLUDES.length]! }))
    const alone = entries.map((e) => discoverEach(root, [e])[0]!)
    expect(alone.some((a) => a.problems.some((p) => p.code === 'OUTSIDE_ROOT'))).toBe(true)
    expect(discoverEach(root, entries)).toEqual(alone)
    expect(discoverEach(root, entries, discoverCache())).toEqual(alone)
    for (const [k, e] of entries.entries())
      expect(alone[k]!.files).toEqual(await discoverFiles(root, { ...e, onProblem: () => {} }))
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: GLOBS.length - 1 }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 0, max: EXCLUDES.length - 1 }), { minLength: 5, maxLength: 5 }),
        async (globs, excludes) => {
          const some = globs.map((g, k) => ({ files: GLOBS[g]!, exclude: EXCLUDES[excludes[k]!]! }))
          expect(discoverEach(root, some)).toEqual(some.map((e) => discoverEach(root, [e])[0]))
        },
      ),
      { numRuns: 100 },
    )
  })

  it("gives each entry the error its own walk throws, the first in its own order, not another's", async () => {
    const root = tree(['ok/a.php'])
    onTestFinished(() => rmSync(root, { recursive: true, force: true }))
    // each link leads to itself: resolving a path through it throws LINK_LOOP
    symlinkSync('a', join(root, 'a'))
    symlinkSync('b', join(root, 'b'))
    const message = (e: unknown) => (e as Error).message
    // the first walks from `a` (a glob), the second looks up a literal path through `b`, and
    // the third walks from `a` after a literal path through `b` (literal paths first, alone)
    const got = discoverEach(root, [
      { files: ['a/*.php'] },
      { files: ['b/x.php', 'ok/*.php'] },
      { files: ['a/**', 'b/y.php'] },
      { files: ['ok/*.php'] },
    ])
    expect(got.map((d) => d.error && message(d.error))).toEqual([
      'a: too many levels of symbolic links',
      'b: too many levels of symbolic links',
      'b: too many levels of symbolic links',
      undefined,
    ])
    expect(got[3]!.files).toEqual(['ok/a.php'])
    // what discoverFiles throws for each alone, in each one's turn with a shared cache
    const cache = discoverCache()
    for (const [k, files] of [['a/*.php'], ['b/x.php', 'ok/*.php']].entries())
      await expect(discoverFiles(root, { files, cache, onProblem: () => {} })).rejects.toThrow(
        message(got[k]!.error),
      )
  })

  it("a plan throws a step's own walk error in the step's turn, the first step's first", async () => {
    const root = tree(['ok/a.conf'])
    onTestFinished(() => rmSync(root, { recursive: true, force: true }))
    symlinkSync('a', join(root, 'a'))
    symlinkSync('b', join(root, 'b'))
    const engine = createEngine({ steps: [textStep] })
    const spec = engine.parseSpec(
      'version: 1\nsteps:\n  - text: { files: ["a/*.conf"], replace: { x: y } }\n  - text: { files: [b/x.conf], replace: { x: y } }\n',
      'cutover.yaml',
    )
    await expect(engine.plan(spec, { root })).rejects.toThrow(
      'a: too many levels of symbolic links',
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

  it('never passes over a directory it cannot read: each one is a problem, named, unless excluded', async () => {
    const root = tree(['ok/a.conf', 'closed/b.conf', 'skipped/c.conf'])
    chmodSync(join(root, 'closed'), 0o000)
    chmodSync(join(root, 'skipped'), 0o000)
    try {
      // root reads every directory: the walk runs as nobody, from the built module
      chmodSync(root, 0o755)
      const dist = new URL('../dist/plan/discover.js', import.meta.url).href
      const script = (exclude: string[]) =>
        `import(${JSON.stringify(dist)}).then(async (m) => { const problems = []; const found = await m.discoverFiles(${JSON.stringify(root)}, { files: ['**/*.conf'], exclude: ${JSON.stringify(exclude)}, onProblem: (p) => problems.push(p) }); console.log(JSON.stringify({ found, problems })) })`
      const asNobody = (code: string) =>
        execFileSync(process.execPath, ['-e', code], { uid: 65534, gid: 65534, encoding: 'utf8' })
      expect(JSON.parse(asNobody(script([])))).toEqual({
        found: ['ok/a.conf'],
        problems: [
          {
            code: 'DIR_UNREADABLE',
            path: 'closed',
            message:
              'closed: directory not read (EACCES): the files below it were not checked; exclude it or make it readable',
          },
          {
            code: 'DIR_UNREADABLE',
            path: 'skipped',
            message: expect.stringContaining('skipped: directory not read'),
          },
        ],
      })
      expect(JSON.parse(asNobody(script(['skipped/**', 'closed'])))).toEqual({
        found: ['ok/a.conf'],
        problems: [],
      })
      // without onProblem: one error naming every such directory
      const thrown = `import(${JSON.stringify(dist)}).then((m) => m.discoverFiles(${JSON.stringify(root)}, { files: ['**/*.conf'] })).catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`
      expect(JSON.parse(asNobody(thrown))).toEqual({
        code: 'DIR_UNREADABLE',
        message: expect.stringMatching(
          /^closed: directory not read.*\nskipped: directory not read/,
        ),
      })
    } finally {
      chmodSync(join(root, 'closed'), 0o755)
      chmodSync(join(root, 'skipped'), 0o755)
    }
  })

  describe('within the root, as a chroot', () => {
    // a tree beside the root that nothing may read: a walk that reaches it finds its files
    function confined(): { root: string; outside: string } {
      const base = tempDir('cutover-confine-')
      const root = join(base, 'root')
      for (const p of ['etc/app.conf', 'srv/www/site/a.conf', 'srv/lib/x.conf', 'etc/hosts']) {
        mkdirSync(dirname(join(root, p)), { recursive: true })
        writeFileSync(join(root, p), p)
      }
      const outside = join(base, 'outside')
      mkdirSync(join(outside, 'www/site'), { recursive: true })
      writeFileSync(join(outside, 'app.conf'), 'outside')
      writeFileSync(join(outside, 'www/site/evil.conf'), 'outside')
      return { root, outside }
    }

    it('takes an absolute link as the root joined with it, in the middle of a path and at its end', async () => {
      const { root, outside } = confined()
      mkdirSync(join(root, 'var'))
      // on this machine these would be the outside tree; in the root they are srv/www and etc/hosts
      symlinkSync('/srv/www', join(root, 'var/www'))
      symlinkSync('/etc/hosts', join(root, 'etc/hosts-link'))
      symlinkSync(join(outside, 'www'), join(root, 'var/www-abs'))
      expect(await discoverFiles(root, { files: ['var/**/*.conf', 'etc/hosts-link'] })).toEqual([
        'etc/hosts-link',
        'var/www/site/a.conf',
      ])
      expect(await discoverFiles(root, { files: ['var/www/site/a.conf'] })).toEqual([
        'var/www/site/a.conf',
      ])
    })

    it('refuses a relative link that climbs out of the root, and a glob with "..", naming the path and where it leads', async () => {
      const { root, outside } = confined()
      symlinkSync('../../outside/app.conf', join(root, 'etc/out.conf'))
      symlinkSync('../../outside/www', join(root, 'srv/up'))
      const problems: unknown[] = []
      const got = await discoverFiles(root, {
        files: ['**/*.conf', '../outside/*'],
        onProblem: (p) => problems.push(p),
      })
      expect(got).toEqual(['etc/app.conf', 'srv/lib/x.conf', 'srv/www/site/a.conf'])
      expect(problems).toEqual([
        { code: 'OUTSIDE_ROOT', path: '../outside/*', message: expect.stringContaining('"..') },
        {
          code: 'OUTSIDE_ROOT',
          path: 'etc/out.conf',
          message: expect.stringContaining(
            `etc/out.conf -> ../../outside/app.conf leads to ${join(outside, 'app.conf')}, outside the root`,
          ),
        },
        {
          code: 'OUTSIDE_ROOT',
          path: 'srv/up',
          message: expect.stringContaining(`leads to ${join(outside, 'www')}`),
        },
      ])
      await expect(discoverFiles(root, { files: ['etc/out.conf'] })).rejects.toMatchObject({
        code: 'OUTSIDE_ROOT',
        message: expect.stringMatching(/^etc\/out.conf: /),
      })
      // excluded, the link is not looked at
      expect(
        await discoverFiles(root, { files: ['etc/*.conf'], exclude: ['etc/out.conf'] }),
      ).toEqual(['etc/app.conf'])
    })
  })
})
