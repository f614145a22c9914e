import { spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo, run } from '../../src/index.js'
import { need } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// issue 14: sudo silently ignores a sudoers file that root does not own or that group or others
// can write, so such a target (existing, or made by `create:`) is a plan error, not a rewrite.

const ORIGINAL = 'Cmnd_Alias FINANCESCRIPT = /home/finance/run.sh\n'
const asRoot = process.geteuid?.() === 0

function tree(opts: { mode?: number; uid?: number; create?: string }): {
  root: string
  spec: string
  target: string
  created: string
} {
  const root = tempDir('sudoers-perm-')
  mkdirSync(join(root, 'etc/sudoers.d'), { recursive: true })
  const target = join(root, 'etc/sudoers.d/finance')
  writeFileSync(target, ORIGINAL)
  chmodSync(target, opts.mode ?? 0o440)
  if (opts.uid !== undefined) chownSync(target, opts.uid, opts.uid)
  const spec = join(root, 'cutover.yaml')
  const files = opts.create
    ? '[etc/sudoers.d/finance, etc/sudoers.d/new]'
    : '[etc/sudoers.d/finance]'
  writeFileSync(
    spec,
    [
      'version: 1',
      'steps:',
      '  - sudoers:',
      `      files: ${files}`,
      ...(opts.create ? [`      create: { mode: "${opts.create}" }`] : []),
      '      aliases: { PULLTSSCRIPT: [/home/finance/pull.sh] }',
      '',
    ].join('\n'),
  )
  return { root, spec, target, created: join(root, 'etc/sudoers.d/new') }
}

async function cli(
  t: { root: string; spec: string },
  ...args: string[]
): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIo({ cwd: t.root })
  const code = await run([...args, '--spec', t.spec, '--root', t.root], io)
  return { code, out: io.out(), err: io.err() }
}

describe.skipIf(!asRoot)('sudoers targets: mode within 0440 and owner root (run as root)', () => {
  it.each(['0666', '0646', '0620', '0442'])(
    'refuses an existing file with mode %s, naming the file, mode and owner; nothing written',
    async (octal) => {
      const mode = Number.parseInt(octal, 8)
      const t = tree({ mode })
      for (const cmd of ['plan', 'apply']) {
        const r = await cli(t, cmd, ...(cmd === 'apply' ? ['--yes'] : []))
        expect(r.code).toBe(1)
        expect(r.err).toContain(
          `etc/sudoers.d/finance:1:1: SUDOERS_MODE etc/sudoers.d/finance has mode ${octal}, owned by uid 0 (root)`,
        )
        expect(r.err).not.toMatch(/\n\s+at /)
      }
      expect(readFileSync(t.target, 'utf8')).toBe(ORIGINAL)
      expect(statSync(t.target).mode & 0o7777).toBe(mode)
      expect(existsSync(join(t.root, 'var/lib/cutover'))).toBe(false)
    },
  )

  it('refuses an existing 0440 file that root does not own', async () => {
    const t = tree({ uid: 65534 })
    const r = await cli(t, 'apply', '--yes')
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      'SUDOERS_OWNER etc/sudoers.d/finance has mode 0440, owned by uid 65534: sudo ignores a sudoers file that root does not own',
    )
    expect(readFileSync(t.target, 'utf8')).toBe(ORIGINAL)
  })

  it.each(['0666', '0644', '0640', '0600'])(
    'refuses create: { mode: "%s" } and creates nothing',
    async (mode) => {
      const t = tree({ create: mode })
      const r = await cli(t, 'apply', '--yes')
      expect(r.code).toBe(1)
      expect(r.err).toContain(
        `etc/sudoers.d/new:1:1: SUDOERS_MODE etc/sudoers.d/new would be created with mode ${mode} (create: { mode: "${mode}" })`,
      )
      expect(existsSync(t.created)).toBe(false)
      expect(readFileSync(t.target, 'utf8')).toBe(ORIGINAL)
    },
  )

  it('creates with mode 0440 and rewrites a root-owned 0440 file, without a warning', async () => {
    const t = tree({ create: '0440' })
    const r = await cli(t, 'apply', '--yes')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).not.toContain('SUDOERS_')
    expect(statSync(t.created).mode & 0o7777).toBe(0o440)
    expect(statSync(t.created).uid).toBe(0)
    expect(readFileSync(t.created, 'utf8')).toContain('Cmnd_Alias PULLTSSCRIPT')
    expect(readFileSync(t.target, 'utf8')).toContain('Cmnd_Alias PULLTSSCRIPT')
  })

  it('warns, but rewrites, an existing 0644 file that sudo still reads (visudo -c wants 0440)', async () => {
    const t = tree({ mode: 0o644 })
    const r = await cli(t, 'apply', '--yes')
    expect(r.code, r.err).toBe(0)
    expect(r.out + r.err).toContain(
      'SUDOERS_MODE etc/sudoers.d/finance has mode 0644, owned by uid 0 (root): sudo reads it, but visudo -c expects mode 0440',
    )
    expect(readFileSync(t.target, 'utf8')).toContain('Cmnd_Alias PULLTSSCRIPT')
    expect(statSync(t.target).mode & 0o7777).toBe(0o644)
  })
})

describe.skipIf(!asRoot)('a saved plan applied after the target became writable by others', () => {
  it('is refused by the sudoers-access validator, writing nothing', async () => {
    const t = tree({})
    const plan = join(t.root, 'plan.json')
    expect((await cli(t, 'plan', '--out', plan)).code).toBe(0)
    chmodSync(t.target, 0o666)
    const io = memoryIo({ cwd: t.root })
    const code = await run(['apply', plan, '--root', t.root, '--yes'], io)
    expect(code).toBe(1)
    expect(io.err()).toContain(
      'etc/sudoers.d/finance would be installed with mode 0666, owned by uid 0: sudo ignores a sudoers file',
    )
    expect(readFileSync(t.target, 'utf8')).toBe(ORIGINAL)
    expect(statSync(t.target).mode & 0o7777).toBe(0o666)
  })
})

describe.skipIf(!asRoot)('sudoers targets as an unprivileged user (a copy of a machine)', () => {
  it("a file the user owns is a warning, not an error: the copy's owner is not the machine's", () => {
    if (!need('setpriv')) return
    const bin = resolve(import.meta.dirname, '../../dist/bin.js')
    const t = tree({ uid: 65534 })
    spawnSync('chown', ['-R', '65534:65534', t.root])
    chmodSync(t.root, 0o755)
    const r = spawnSync(
      'setpriv',
      [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        process.execPath,
        bin,
        'plan',
        '--spec',
        t.spec,
        '--root',
        t.root,
      ],
      { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } },
    )
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout + r.stderr).toContain(
      'SUDOERS_OWNER etc/sudoers.d/finance has mode 0440, owned by uid 65534 (you, not root)',
    )
  })
})
