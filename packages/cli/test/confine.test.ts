import {
  existsSync,
  linkSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { dirname, join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { snapshot } from './tree.js'
import { tempDir } from '@cutover/test-kit/temp'

// --root confines every read and write (issue 14): a tree `root/` beside `outside/`, whose files
// hold the old address too, so that a read or write that leaves the root would show.
const OLD = 'host 10.0.10.48\n'
const NEW = 'host 10.0.10.49\n'

function spec(files: string[], extra = ''): string {
  return `version: 1\nhosts:\n  f.example: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ${JSON.stringify(files)}, addresses: new${extra} }\n`
}

function setup(
  files: Record<string, string>,
  specFiles: string[],
  extra = '',
): { base: string; root: string; outside: string } {
  const base = realpathSync(tempDir('cutover-confine-'))
  for (const [p, text] of Object.entries({
    'outside/app.conf': OLD,
    'outside/www/site/a.conf': OLD,
    ...files,
  })) {
    mkdirSync(dirname(join(base, p)), { recursive: true })
    writeFileSync(join(base, p), text)
  }
  mkdirSync(join(base, 'root/etc'), { recursive: true })
  writeFileSync(join(base, 'cutover.yaml'), spec(specFiles, extra))
  return { base, root: join(base, 'root'), outside: join(base, 'outside') }
}

async function cli(base: string, ...argv: string[]) {
  const io = memoryIo({ cwd: base, env: {} })
  const code = await run(argv, io)
  return { code, out: io.out(), err: io.err() }
}

describe('--root confines reads and writes to the root', () => {
  it('an absolute link is the root joined with the link: the plan shows where it leads, apply writes there and keeps the link', async () => {
    // root/etc/hosts -> /run/... means <root>/run/..., never this machine's /run
    const name = `/run/cutover-test-${randomBytes(4).toString('hex')}/hosts`
    const { base, root, outside } = setup(
      { [`root${name}`]: OLD, 'root/srv/www/site/a.conf': OLD },
      ['etc/hosts', 'etc/app.conf', 'var/www/*/a.conf', 'var/abs/*/a.conf'],
    )
    symlinkSync(name, join(root, 'etc/hosts'))
    // a link to the outside tree by its absolute path: inside the root that path does not exist
    symlinkSync(join(outside, 'app.conf'), join(root, 'etc/app.conf'))
    mkdirSync(join(root, 'var'))
    symlinkSync('/srv/www', join(root, 'var/www'))
    symlinkSync(join(outside, 'www'), join(root, 'var/abs'))
    const outsideBefore = snapshot(outside)

    const plan = await cli(base, 'plan', '--root', 'root')
    expect(plan.err).toBe('')
    expect(plan.out).toContain(`etc/hosts -> ..${name}`)
    expect(plan.out).toContain('var/www/site/a.conf -> ../../../srv/www/site/a.conf')
    const json = JSON.parse((await cli(base, 'plan', '--root', 'root', '--json')).out) as {
      changes: Array<{ target: string; link?: string }>
    }
    expect(json.changes.map((c) => [c.target, c.link])).toEqual([
      ['etc/hosts', name.slice(1)],
      ['var/www/site/a.conf', 'srv/www/site/a.conf'],
    ])

    expect((await cli(base, 'apply', '--root', 'root', '--yes')).code).toBe(0)
    expect(readFileSync(join(root, name), 'utf8')).toBe(NEW)
    expect(readFileSync(join(root, 'srv/www/site/a.conf'), 'utf8')).toBe(NEW)
    expect(readlinkSync(join(root, 'etc/hosts'))).toBe(name)
    expect(existsSync(name)).toBe(false)
    expect(snapshot(outside)).toEqual(outsideBefore)
  })

  it("root/etc/hosts -> /etc/hosts is <root>/etc/hosts itself (a loop, refused), never this machine's /etc/hosts", async () => {
    const { base, root } = setup({}, ['etc/hosts'])
    symlinkSync('/etc/hosts', join(root, 'etc/hosts'))
    const r = await cli(base, 'plan', '--root', 'root', '--verbose')
    expect(r.code).toBe(1)
    expect(r.err).toContain('etc/hosts: too many levels of symbolic links')
    expect(r.out).toBe('')
  })

  it('refuses a relative link that climbs out of the root, naming it and where it leads; nothing is read or written', async () => {
    const { base, root, outside } = setup({ 'root/etc/ok.conf': OLD }, [
      'etc/*.conf',
      'srv/**/*.conf',
    ])
    symlinkSync('../../outside/app.conf', join(root, 'etc/out.conf'))
    mkdirSync(join(root, 'srv'))
    symlinkSync('../../outside/www', join(root, 'srv/www'))
    const before = snapshot(base)
    for (const cmd of ['plan', 'apply']) {
      const r = await cli(
        base,
        ...(cmd === 'plan' ? ['plan', '--root', 'root'] : ['apply', '--root', 'root', '--yes']),
      )
      expect(r.code).toBe(1)
      expect(r.err).toContain(
        `etc/out.conf: etc/out.conf -> ../../outside/app.conf leads to ${join(outside, 'app.conf')}, outside the root ${root}; refused`,
      )
      expect(r.err).toContain(
        `srv/www: srv/www -> ../../outside/www leads to ${join(outside, 'www')}, outside the root`,
      )
    }
    expect(snapshot(base)).toEqual(before)
  })

  it('refuses ".." in files and create paths as spec errors, all at once, before reading anything', async () => {
    const { base, outside } = setup(
      {},
      ['../outside/*', 'etc/../../outside/app.conf', '../**/app.conf', 'etc/../../x/new.conf'],
      ', create: { mode: "0644" }',
    )
    const before = snapshot(base)
    const r = await cli(base, 'apply', '--root', 'root', '--yes')
    expect(r.code).toBe(1)
    expect(r.err).toMatch(/invalid spec: 4 error\(s\)/)
    for (const col of [21, 36, 65, 82]) expect(r.err).toContain(`cutover.yaml:5:${col}: SPEC_VALUE`)
    expect(r.err).toContain('"../outside/*" has a ".." part')
    expect(snapshot(base)).toEqual(before)
    expect(existsSync(join(outside, '../x'))).toBe(false)
  })

  it('keeps the state directory in the root when var/lib is a link: absolute is re-rooted, climbing out is refused', async () => {
    const top = `/cutover-test-${randomBytes(4).toString('hex')}`
    const { base, root, outside } = setup({ 'root/etc/app.conf': OLD }, ['etc/app.conf'])
    mkdirSync(join(root, 'var'))
    symlinkSync(`${top}/lib`, join(root, 'var/lib'))
    const a = await cli(base, 'apply', '--root', 'root', '--yes')
    expect(a.err).toBe('')
    expect(a.out).toContain(`(backups in ${join(root, top, 'lib/cutover')})`)
    expect(existsSync(join(root, top, 'lib/cutover/tx'))).toBe(true)
    expect(existsSync(top)).toBe(false)
    expect((await cli(base, 'rollback', '--root', 'root', '--yes')).code).toBe(0)
    expect(readFileSync(join(root, 'etc/app.conf'), 'utf8')).toBe(OLD)

    rmSync(join(root, 'var/lib'))
    mkdirSync(join(outside, 'lib'))
    symlinkSync('../../outside/lib', join(root, 'var/lib'))
    const before = snapshot(base)
    const r = await cli(base, 'apply', '--root', 'root', '--yes')
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      `var/lib -> ../../outside/lib leads to ${join(outside, 'lib')}, outside the root`,
    )
    expect(snapshot(base)).toEqual(before)
    expect(existsSync(join(outside, 'lib/cutover'))).toBe(false)
  })

  it('refuses a saved plan whose target became a link since, even to identical bytes, inside or outside the root', async () => {
    const { base, root, outside } = setup({ 'root/etc/app.conf': OLD, 'root/etc/copy.conf': OLD }, [
      'etc/app.conf',
    ])
    expect((await cli(base, 'plan', '--root', 'root', '--out', 'plan.json')).code).toBe(0)
    for (const [link, why] of [
      ['../../outside/app.conf', `leads to ${join(outside, 'app.conf')}, outside the root`],
      [
        join(outside, 'app.conf'),
        `etc/app.conf: now leads to ${join(outside, 'app.conf').slice(1)} in the root, planned etc/app.conf`,
      ],
      ['copy.conf', 'etc/app.conf: now leads to etc/copy.conf in the root, planned etc/app.conf'],
    ] as const) {
      rmSync(join(root, 'etc/app.conf'))
      symlinkSync(link, join(root, 'etc/app.conf'))
      const before = snapshot(base)
      const r = await cli(base, 'apply', 'plan.json')
      expect(r.code).toBe(1)
      expect(r.err).toContain(why)
      expect(r.err).toContain('nothing was written')
      expect(snapshot(base)).toEqual(before)
    }
  })

  it('with --root / nothing changes: a relative link climbing above / stays at / (as in any process)', async () => {
    const d = realpathSync(tempDir('cutover-slash-'))
    writeFileSync(join(d, 'real.conf'), OLD)
    // ../../../../../../.. stops at /, then down to the real file again
    symlinkSync(`${'../'.repeat(12)}${d.slice(1)}/real.conf`, join(d, 'app.conf'))
    const rel = d.slice(1)
    writeFileSync(join(d, 'cutover.yaml'), spec([`${rel}/app.conf`]))
    const json = JSON.parse((await cli(d, 'plan', '--root', '/', '--json')).out) as {
      changes: Array<{ target: string; link?: string }>
    }
    expect(json.changes).toMatchObject([{ target: `${rel}/app.conf`, link: `${rel}/real.conf` }])
    expect(
      (await cli(d, 'apply', '--root', '/', '--state-dir', join(d, 'state'), '--yes')).code,
    ).toBe(0)
    expect(readFileSync(join(d, 'real.conf'), 'utf8')).toBe(NEW)
  })

  it('warns at plan time about a target with more than one hard link', async () => {
    const { base, root } = setup({ 'root/etc/app.conf': OLD, 'root/etc/plain.conf': OLD }, [
      'etc/*.conf',
    ])
    linkSync(join(root, 'etc/app.conf'), join(root, 'other-name'))
    const r = await cli(base, 'plan', '--root', 'root')
    expect(r.out).toContain(
      'warning: etc/app.conf: HARD_LINK has 2 hard links: apply writes a new file, so the other 1 keep the old content',
    )
    expect(r.out).not.toContain('etc/plain.conf: HARD_LINK')
  })
})

describe('the sudoers step reads the root, never this machine through a link', () => {
  it("takes etc/passwd, the rule's commands and the target itself from the root, absolute links re-rooted", async () => {
    const { chownSync, chmodSync } = await import('node:fs')
    const base = realpathSync(tempDir('cutover-confine-'))
    const root = join(base, 'root')
    const outside = join(base, 'outside')
    const put = (p: string, text: string, mode: number, uid = 0) => {
      mkdirSync(dirname(p), { recursive: true })
      writeFileSync(p, text)
      chmodSync(p, mode)
      chownSync(p, uid, 0)
    }
    // on this machine, at the absolute paths the links name: finance is 1001, owns bin/true, and
    // the sudoers file is world-writable; in the root, at the same paths re-rooted: none of that
    for (const [top, uid, mode] of [
      [outside, 1001, 0o666],
      [join(root, outside), 1002, 0o440],
    ] as const) {
      put(
        join(top, 'passwd'),
        `root:x:0:0::/root:/bin/sh\nfinance:x:${uid}:${uid}::/home/finance:/bin/sh\n`,
        0o644,
      )
      put(join(top, 'bin/true'), '#!/bin/sh\n', 0o755, 1001)
      put(join(top, 'app'), 'Cmnd_Alias FOO = /bin/true\n', mode)
    }
    mkdirSync(join(root, 'etc/sudoers.d'), { recursive: true })
    symlinkSync(join(outside, 'passwd'), join(root, 'etc/passwd'))
    symlinkSync(join(outside, 'bin'), join(root, 'bin'))
    symlinkSync(join(outside, 'app'), join(root, 'etc/sudoers.d/app'))
    writeFileSync(
      join(base, 'cutover.yaml'),
      'version: 1\nsteps:\n  - sudoers: { files: [etc/sudoers.d/app], rules: ["www-data ALL=(finance) NOPASSWD: /bin/true"] }\n',
    )
    const r = await cli(base, 'plan', '--root', 'root')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toContain('+www-data ALL=(finance) NOPASSWD: /bin/true')
    expect(r.out).not.toContain('SUDOERS_MODE')
    expect(r.out).not.toContain('RUNAS_WRITABLE')
    // the root's own finance (1002) owning the root's bin/true is found
    chownSync(join(root, outside, 'bin/true'), 1002, 0)
    expect((await cli(base, 'plan', '--root', 'root')).out).toContain(
      'RUNAS_WRITABLE /bin/true is writable by finance',
    )
  })
})

describe('a directory in scope that cannot be read', () => {
  it('fails plan and verify --strict, naming the directory, instead of passing over the files below it', async () => {
    const { base, root } = setup(
      { 'root/etc/ok.conf': 'host f.example\n', 'root/etc/closed/app.conf': OLD },
      ['etc/**/*.conf'],
    )
    const { chmodSync } = await import('node:fs')
    const { execFileSync } = await import('node:child_process')
    chmodSync(base, 0o755)
    chmodSync(join(root, 'etc/closed'), 0o700)
    // root reads every directory: the CLI runs as nobody, through the built bin
    const bin = new URL('../dist/bin.js', import.meta.url).pathname
    const asNobody = (...argv: string[]) => {
      try {
        return {
          code: 0,
          err: execFileSync(process.execPath, [bin, ...argv], {
            cwd: base,
            uid: 65534,
            gid: 65534,
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          }),
        }
      } catch (e) {
        return {
          code: (e as { status: number }).status,
          err: String((e as { stderr: string }).stderr),
        }
      }
    }
    for (const cmd of [['verify', '--strict'], ['verify'], ['plan']]) {
      const r = asNobody(...cmd, '--root', 'root')
      expect(r.code).toBe(1)
      expect(r.err).toContain(
        'etc/closed: directory not read (EACCES): the files below it were not checked; exclude it or make it readable',
      )
    }
    writeFileSync(
      join(base, 'cutover.yaml'),
      spec(['etc/**/*.conf'], ', exclude: ["etc/closed/**"]'),
    )
    expect(asNobody('verify', '--strict', '--root', 'root')).toMatchObject({ code: 0 })
  })
})
