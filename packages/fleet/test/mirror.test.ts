import {
  chmodSync,
  chownSync,
  existsSync,
  linkSync,
  readdirSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  statfsSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { spawnSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { need } from '@cutover/test-kit'
import {
  createEngine,
  localFileSystem,
  localStateFileSystem,
  textStep,
  toPlanDocument,
} from '@cutover/rewrite'
import {
  localExec,
  mirrorDir,
  mirrorMachine,
  removeMirror,
  removeMirrors,
  type Machine,
} from '../src/index.js'
import { mirrorBase } from '../src/mirror.js'
import { tempDir } from '@cutover/test-kit/temp'

/** statfs(2)'s type of a tmpfs. */
const TMPFS = 0x01021994

const dirs: string[] = []
afterEach(async () => {
  for (const d of dirs.splice(0)) await removeMirror(d)
})

/** Mirrors `machine` for `needs` into a new directory of the test (files up to 1 MiB), with `more` options. */
async function mirrorFor(
  machine: Machine,
  needs: Parameters<typeof mirrorMachine>[1],
  more: Partial<Parameters<typeof mirrorMachine>[2]> = {},
) {
  const dir = await mirrorDir('finance')
  dirs.push(dir)
  return mirrorMachine(machine, needs, { dir, maxFileSize: 1 << 20, ...more })
}

/** A machine whose root is a local directory, recording every script it runs and every file it reads. */
function localMachine(root: string) {
  const scripts: Array<{ script: string; stdin?: string }> = []
  const reads: string[] = []
  const machine: Machine = {
    spec: { name: 'finance', root },
    label: 'finance:',
    fileSystem: localFileSystem,
    stateFileSystem: localStateFileSystem,
    exec: (script, o) => {
      scripts.push({ script, ...(o?.stdin ? { stdin: o.stdin.toString('latin1') } : {}) })
      return localExec(script, o)
    },
    readFile: (path) => {
      reads.push(path)
      return readFile(path)
    },
    close: async () => {},
  }
  return { machine, scripts, reads }
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`

function tree(files: Record<string, string>): string {
  const root = tempDir('cutover-machine-')
  dirs.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

const SPEC = `version: 1
machines:
  finance: { ssh: finance }
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - text: { files: ["etc/**/*.conf"], replace: { oldname: newname } }
  - text: { files: [etc/hostname], replace: { finance-old: finance } }
`

describe('mirrorDir', () => {
  const shm = (() => {
    try {
      return statfsSync('/dev/shm').type === TMPFS
    } catch {
      return false
    }
  })()
  it.runIf(shm && !process.env.TMPDIR)(
    'makes the mirror in memory (/dev/shm) when TMPDIR names no other place',
    async () => {
      const dir = await mirrorDir('finance')
      dirs.push(dir)
      expect(dir.startsWith('/dev/shm/')).toBe(true)
      expect(statfsSync(dir).type).toBe(TMPFS)
      expect(statSync(dir).mode & 0o777).toBe(0o700)
    },
  )

  it('has made the directory when it returns, before any event (a signal) can be handled', async () => {
    const pending = mirrorDir('made-at-once')
    // nothing else has run since the call: no answer of the thread pool, no signal's handler
    const there = readdirSync(mirrorBase())
      .filter((n) => n.startsWith('cutover-mirror-made-at-once-'))
      .map((n) => [n, readdirSync(join(mirrorBase(), n))])
    const dir = await pending
    dirs.push(dir)
    expect(there).toEqual([[basename(dirname(dir)), ['root']]])
  })
})

describe('removeMirrors', () => {
  /** Two mirrors with files, directories, a link out of them and the other names beside one. */
  async function twoMirrors(outside: string) {
    const made: string[] = []
    for (const name of ['m1', 'm2']) {
      const dir = await mirrorDir(name)
      made.push(dir)
      mkdirSync(join(dir, 'etc/app'), { recursive: true })
      writeFileSync(join(dir, 'etc/app/a.conf'), 'x\n')
      symlinkSync(outside, join(dir, 'etc/out'))
    }
    mkdirSync(join(dirname(made[0]!), 'links'))
    writeFileSync(join(dirname(made[0]!), 'links/b.conf'), 'y\n')
    return made
  }

  it('removes every mirror with one rm, and nothing a link in them leads to', async () => {
    const outside = tempDir('outside-')
    writeFileSync(join(outside, 'keep'), 'kept\n')
    const made = await twoMirrors(outside)
    // an rm that records its arguments, then runs the system's
    const bin = tempDir('rm-bin-')
    const log = join(bin, 'argv')
    const real = spawnSync('sh', ['-c', 'command -v rm'], { encoding: 'utf8' }).stdout.trim()
    writeFileSync(
      join(bin, 'rm'),
      `#!/bin/sh\nprintf '%s\\n' "$@" >> '${log}'\nexec ${real} "$@"\n`,
    )
    chmodSync(join(bin, 'rm'), 0o755)
    const path = process.env.PATH
    process.env.PATH = `${bin}:${path}`
    try {
      await removeMirrors(made)
    } finally {
      process.env.PATH = path
    }
    expect(readFileSync(log, 'utf8').split('\n').slice(0, -1)).toEqual([
      '-rf',
      '--',
      ...made.map((d) => dirname(d)),
    ])
    for (const d of made) expect(existsSync(dirname(d))).toBe(false)
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('kept\n')
  })

  it('removes them as removeMirror does when rm fails or is not there', async () => {
    const outside = tempDir('outside-')
    for (const rm of ['#!/bin/sh\nexit 1\n', undefined]) {
      const made = await twoMirrors(outside)
      const bin = tempDir('rm-bin-')
      if (rm !== undefined) {
        writeFileSync(join(bin, 'rm'), rm)
        chmodSync(join(bin, 'rm'), 0o755)
      }
      const path = process.env.PATH
      // no other directory: without the fake, there is no rm at all
      process.env.PATH = bin
      try {
        await removeMirrors(made)
      } finally {
        process.env.PATH = path
      }
      for (const d of made) expect(existsSync(dirname(d))).toBe(false)
    }
  })
})

describe('mirrorMachine', () => {
  it('fetches only the files holding a needle, stands the others in empty, and plans as the machine would', async () => {
    const root = tree({
      'etc/app/a.conf': 'server = oldname\n',
      'etc/app/b.conf': 'server = somewhere-else\n',
      'etc/app/c.conf': 'upstream 10.0.10.48\n', // a leftover's needle only
      'etc/app/OLDNAME.conf': 'case differs: OLDNAME\n', // grep -i: a candidate, planned as nothing
      'etc/big/d.conf': 'x'.repeat(4096),
      'etc/hostname': 'finance-old\n',
      'etc/other/e.txt': 'oldname, but in no step\n',
      'etc/other/f.txt': 'in no step\n',
      'run/real.conf': 'via link: oldname\n',
      'var/lib/cutover/1/journal.json': '{}',
    })
    chownSync(join(root, 'etc/app/b.conf'), 1234, 2345)
    symlinkSync('../../run/real.conf', join(root, 'etc/app/linked.conf'))
    const { machine, scripts, reads } = localMachine(root)
    const engine = createEngine({ steps: [textStep] })
    const spec = engine.parseSpec(SPEC, 'cutover.yaml')
    const dir = await mirrorDir('finance')
    dirs.push(dir)
    const needs = engine.needs(spec, {
      root: dir,
      machine: 'finance',
      ignore: ['var/lib/cutover/**'],
    })
    const mirror = await mirrorMachine(machine, needs, {
      dir,
      maxFileSize: 1024,
      fetch: (p) => /^var\/lib\/cutover\/[^/]+\/journal\.json$/.test(p),
      also: ['var/lib/cutover'],
    })
    expect(mirror.fetched).toEqual([
      'etc/app/OLDNAME.conf',
      'etc/app/a.conf',
      'etc/app/c.conf',
      'etc/hostname',
      // under the static prefix of a glob and holding a needle: the globs are the engine's
      'etc/other/e.txt',
      'run/real.conf',
      'var/lib/cutover/1/journal.json',
    ])
    expect(reads.map((p) => p.slice(root.length + 1)).sort()).toEqual(mirror.fetched)
    expect(mirror.placeholders).toEqual(['etc/app/b.conf', 'etc/big/d.conf', 'etc/other/f.txt'])
    // a stand-in is empty, with the mode and owner of the file; a large one is sparse, of its size
    const b = lstatSync(join(dir, 'etc/app/b.conf'))
    expect([b.size, b.uid, b.gid, b.mode & 0o7777]).toEqual([
      0,
      1234,
      2345,
      lstatSync(join(root, 'etc/app/b.conf')).mode & 0o7777,
    ])
    expect(lstatSync(join(dir, 'etc/big/d.conf')).size).toBe(4096)
    expect(readlinkSync(join(dir, 'etc/app/linked.conf'))).toBe('../../run/real.conf')
    expect(readFileSync(join(dir, 'etc/app/a.conf'), 'utf8')).toBe('server = oldname\n')
    // the needles went on stdin, never into a command line
    expect(scripts.some((s) => s.stdin?.includes('oldname'))).toBe(true)
    for (const s of scripts) for (const n of needs.needles) expect(s.script).not.toContain(n)
    // the plan of the mirror is the plan of the machine (the size limit refuses the same file)
    const plan = async (r: string) => {
      try {
        const p = await engine.plan(spec, { root: r, machine: 'finance', maxFileSize: 1024 })
        return { ...toPlanDocument(p), root: '' }
      } catch (e) {
        return (e as Error).message
      }
    }
    const onMirror = await plan(dir)
    expect(onMirror).toMatch(/FILE_TOO_LARGE|exceed the size limit/)
    expect(onMirror).toContain('etc/big/d.conf: 4096 bytes')
    expect(onMirror).toEqual(await plan(root))
    rmSync(join(root, 'etc/big'), { recursive: true })
    rmSync(join(dir, 'etc/big'), { recursive: true })
    const planned = await plan(dir)
    expect(typeof planned === 'string' ? planned : planned.changes.map((c) => c.target)).toEqual([
      'etc/app/a.conf',
      'etc/app/linked.conf', // planned where the link is, with the link's target recorded
      'etc/hostname',
    ])
    const masked = (d: typeof planned) =>
      typeof d === 'string'
        ? d
        : { ...d, changes: d.changes.map((c) => ({ ...c, salt: undefined })) }
    expect(masked(planned)).toEqual(masked(await plan(root)))
  })

  it('fetches every file under the prefix of a step that plans without a needle', async () => {
    const root = tree({ 'etc/a/x.conf': 'nothing here\n', 'etc/b/y.conf': 'nor here\n' })
    const { machine } = localMachine(root)
    const mirror = await mirrorFor(machine, {
      files: [
        { files: ['etc/a/*.conf'], exclude: [], always: true },
        { files: ['etc/b/*.conf'], exclude: [], always: false },
      ],
      needles: ['needle'],
    })
    expect(mirror.fetched).toEqual(['etc/a/x.conf'])
    expect(mirror.placeholders).toEqual(['etc/b/y.conf'])
  })

  it.runIf(need('setpriv'))(
    'refuses a tree it cannot list whole (a directory the login cannot read) instead of leaving its files out',
    async () => {
      const root = tree({
        'etc/app/a.conf': 'server = oldname\n',
        'etc/app/hidden/b.conf': 'oldname\n',
      })
      for (const d of ['', 'etc', 'etc/app']) chmodSync(join(root, d), 0o755)
      chmodSync(join(root, 'etc/app/a.conf'), 0o644)
      chmodSync(join(root, 'etc/app/hidden'), 0o700)
      const { machine } = localMachine(root)
      // the machine reached as a user that is not root (uid 65534): etc/app/hidden is closed to it
      machine.exec = (script, o) =>
        localExec(
          `exec setpriv --reuid=65534 --regid=65534 --clear-groups sh -c ${quote(script)}`,
          o,
        )
      await expect(
        mirrorFor(machine, {
          files: [{ files: ['etc/**/*.conf'], exclude: [], always: false }],
          needles: ['oldname'],
        }),
      ).rejects.toThrow(/finance: cannot list etc under .*Permission denied/s)
    },
  )

  it('keeps the hard links of a file, so the plan warns of them as on the machine', async () => {
    const root = tree({ 'etc/app/a.conf': 'server = oldname\n', 'etc/app/b.conf': 'in no step\n' })
    mkdirSync(join(root, 'srv'))
    linkSync(join(root, 'etc/app/a.conf'), join(root, 'srv/a.conf')) // out of every step's scope
    linkSync(join(root, 'etc/app/b.conf'), join(root, 'srv/b.conf'))
    const { machine } = localMachine(root)
    const engine = createEngine({ steps: [textStep] })
    const spec = engine.parseSpec(SPEC, 'cutover.yaml')
    const dir = await mirrorDir('finance')
    dirs.push(dir)
    const needs = engine.needs(spec, { root: dir, machine: 'finance' })
    await mirrorMachine(machine, needs, { dir, maxFileSize: 1 << 20 })
    const notes = async (r: string) =>
      (await engine.plan(spec, { root: r, machine: 'finance' })).notes.map((n) => [
        n.target,
        n.code,
        n.message,
      ])
    const onMachine = await notes(root)
    expect(onMachine).toContainEqual([
      'etc/app/a.conf',
      'HARD_LINK',
      expect.stringContaining('has 2 hard links'),
    ])
    expect(await notes(dir)).toEqual(onMachine)
    // the other names of a file are beside the mirror, never in it, and go with it; the
    // mirror and those names are in a private directory (no other user can take a name there)
    expect(existsSync(join(dir, 'srv'))).toBe(false)
    expect(statSync(dirname(dir)).mode & 0o777).toBe(0o700)
    expect(readdirSync(dirname(dir)).sort()).toEqual(['links', basename(dir)])
    await removeMirror(dir)
    expect(existsSync(dirname(dir))).toBe(false)
  })

  it('lists the directories of `also` without reading what they hold (only `fetch` is fetched)', async () => {
    const root = tree({
      'etc/app/a.conf': 'server = oldname\n',
      'var/lib/cutover/tx/1/journal.json': '{}',
      // an earlier apply's backup holds the old value: the plan never reads it
      'var/lib/cutover/tx/1/backup/etc/app/a.conf': 'server = oldname\n',
    })
    const { machine, reads } = localMachine(root)
    const mirror = await mirrorFor(
      machine,
      { files: [{ files: ['etc/**/*.conf'], exclude: [], always: false }], needles: ['oldname'] },
      { fetch: (p) => p.endsWith('/journal.json'), also: ['var/lib/cutover'] },
    )
    expect(mirror.fetched).toEqual(['etc/app/a.conf', 'var/lib/cutover/tx/1/journal.json'])
    expect(mirror.placeholders).toEqual(['var/lib/cutover/tx/1/backup/etc/app/a.conf'])
    expect(reads).toHaveLength(2)
  })

  it('fetches what a link leads to only when it holds a needle or a step without one reaches it', async () => {
    const root = tree({
      'etc/app/a.conf': 'server = oldname\n',
      'usr/bin/tool': 'a program, no needle\n',
      'srv/real.conf': 'oldname\n',
      'srv/hosts': '127.0.0.1 localhost\n', // no needle, but a step that always plans takes it
    })
    mkdirSync(join(root, 'etc/alt'))
    symlinkSync('../../usr/bin/tool', join(root, 'etc/alt/tool'))
    symlinkSync('../../srv/real.conf', join(root, 'etc/alt/real.conf'))
    symlinkSync('../srv/hosts', join(root, 'etc/hosts'))
    const { machine } = localMachine(root)
    const mirror = await mirrorFor(machine, {
      files: [
        { files: ['etc/**'], exclude: [], always: false },
        { files: ['etc/hosts'], exclude: [], always: true },
      ],
      needles: ['oldname'],
    })
    expect(mirror.fetched).toEqual(['etc/app/a.conf', 'srv/hosts', 'srv/real.conf'])
    expect(mirror.placeholders).toEqual(['usr/bin/tool'])
  })

  it.runIf(need('setpriv'))(
    'mirrors as a controller that is not root: the copies its own, a read-only directory filled',
    () => {
      const root = tree({ 'etc/app/a.conf': 'server = oldname\n', 'etc/app/b.conf': 'none\n' })
      for (const d of ['', 'etc']) chmodSync(join(root, d), 0o755)
      chmodSync(join(root, 'etc/app'), 0o555) // root's, read-only
      for (const f of ['a.conf', 'b.conf']) chmodSync(join(root, 'etc/app', f), 0o644)
      const script = join(root, 'mirror.mjs')
      const dist = (p: string) => resolve(import.meta.dirname, '../..', p, 'dist/index.js')
      writeFileSync(
        script,
        `import { readFile } from 'node:fs/promises'
import { localExec, mirrorDir, mirrorMachine, removeMirror } from ${JSON.stringify(dist('fleet'))}
import { localFileSystem, localStateFileSystem } from ${JSON.stringify(dist('rewrite'))}
const machine = { spec: { name: 'finance', root: ${JSON.stringify(root)} }, label: 'finance:',
  fileSystem: localFileSystem, stateFileSystem: localStateFileSystem, exec: localExec,
  readFile: (p) => readFile(p), close: async () => {} }
const dir = await mirrorDir('finance')
const m = await mirrorMachine(machine,
  { files: [{ files: ['etc/**/*.conf'], exclude: [], always: false }], needles: ['oldname'] },
  { dir, maxFileSize: 1 << 20 })
const text = await readFile(dir + '/etc/app/a.conf', 'utf8')
await removeMirror(dir)
console.log(JSON.stringify({ fetched: m.fetched, placeholders: m.placeholders, text }))
`,
      )
      chmodSync(script, 0o644)
      const r = spawnSync(
        'setpriv',
        ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, script],
        { encoding: 'utf8' },
      )
      expect(r.stderr).toBe('')
      expect(JSON.parse(r.stdout)).toEqual({
        fetched: ['etc/app/a.conf'],
        placeholders: ['etc/app/b.conf'],
        text: 'server = oldname\n',
      })
    },
  )
})
