import { execFileSync } from 'node:child_process'
import { createHash, generateKeyPairSync } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { need } from '@cutover/test-kit'
import { cutover, fleetSnapshot, SSH_TEST_MS, strays, useFleet } from './fleet-kit.js'

/*
 * Whole files copied and exchanged between two machines over real sshd, in the fleet's one
 * transaction: m1 is mentat-hub, m2 mentat-alt. The plans hold the whole-file changes as the
 * planner writes them (made here from the files as they are), beside the edits `cutover plan`
 * makes of the spec's other steps.
 */

const kit = useFleet(2, 'cutover-copy-apply-')
const env = kit.env

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`

/** A throwaway private key (PEM), different for each machine. */
function privateKey(): string {
  return generateKeyPairSync('ed25519').privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string
}

/** Every machine's tree afresh: hostnames, Warden certificate and key, /etc/mentat, a sudoers file. */
function writeTrees(edit?: (name: string, root: string) => void): void {
  for (const [i, m] of kit.fleet.machines.entries()) {
    const name = i === 0 ? 'mentat-hub' : 'mentat-alt'
    rmSync(m.root, { recursive: true, force: true })
    const put = (rel: string, text: string, mode: number) => {
      mkdirSync(join(m.root, rel, '..'), { recursive: true })
      writeFileSync(join(m.root, rel), text)
      chmodSync(join(m.root, rel), mode)
    }
    put('etc/hostname', `${name}\n`, 0o644)
    put('etc/warden_client/cert.pem', `-----BEGIN CERTIFICATE-----\n${name}\n`, 0o644)
    put('etc/warden_client/key.pem', privateKey(), 0o600)
    put('etc/mentat/core.json', `{"node": "${name}"}\n`, 0o644)
    if (i === 0) put('etc/mentat/new.json', '{"only": "hub"}\n', 0o640)
    put('etc/sudoers.d/mentat', 'Defaults:mentat !requiretty\n', 0o440)
    edit?.(name, m.root)
  }
}

/**
 * What every machine holds, byte for byte, but `var` (the state directory's parent, made by the
 * first transaction there, which the snapshot otherwise leaves out).
 */
function machinesNow(): Record<string, Record<string, string>> {
  const all = fleetSnapshot(kit.fleet)
  for (const files of Object.values(all)) delete files.var
  return all
}

const HUB = () => kit.fleet.machines[0]!
const ALT = () => kit.fleet.machines[1]!

/** The spec: the two machines, and a sudoers step on both (its edits come from `cutover plan`). */
function spec(): string {
  return [
    'version: 1',
    'machines:',
    ...kit.fleet.machines.map((m) => `  ${m.name}: { ssh: ${m.name}, root: ${m.root} }`),
    'steps:',
    '  - sudoers:',
    '      files: [etc/sudoers.d/mentat]',
    '      rules: ["mentat ALL=(root) NOPASSWD: /usr/sbin/service mentat restart"]',
    '',
  ].join('\n')
}

interface Change {
  machine: string
  target: string
  before: string
  after: string
  mode: string
  whole?: Record<string, unknown>
  [k: string]: unknown
}

/** The change writing `to` on machine `on` with the bytes of `from` on machine `source`, as planned now. */
function wholeChange(
  source: string,
  from: string,
  on: string,
  to: string,
  extra: Record<string, unknown> = {},
): Change {
  const root = (n: string) => kit.fleet.machines.find((m) => m.name === n)!.root
  const bytes = readFileSync(join(root(source), from))
  const target = join(root(on), to)
  const exists = existsSync(target)
  const mode = statSync(exists ? target : join(root(source), from)).mode & 0o777
  return {
    machine: on,
    target: to,
    kind: extra.once ? 'exchange' : 'copy',
    before: exists ? sha(readFileSync(target)) : 'absent',
    after: sha(bytes),
    mode: `0${mode.toString(8)}`,
    encoding: 'utf8',
    validators: [],
    edits: [],
    diff: '',
    whole: { type: 'file', from: { machine: source, path: from }, ...extra },
  }
}

/** Both sides of an exchange of `path` between m1 and m2. */
function exchange(path: string, extra: Record<string, unknown> = {}): Change[] {
  const once = `exchange [m1:${path}, m2:${path}]`
  return [
    wholeChange('m2', path, 'm1', path, { once, ...extra }),
    wholeChange('m1', path, 'm2', path, { once, ...extra }),
  ]
}

/** The whole-file changes of mentat's cutover: hostnames, certificates and keys exchanged, /etc/mentat copied. */
function wholeChanges(): Change[] {
  return [
    ...exchange('etc/hostname'),
    ...exchange('etc/warden_client/cert.pem'),
    ...exchange('etc/warden_client/key.pem', { sensitive: true }),
    wholeChange('m1', 'etc/mentat/core.json', 'm2', 'etc/mentat/core.json'),
    wholeChange('m1', 'etc/mentat/new.json', 'm2', 'etc/mentat/new.json'),
  ]
}

/**
 * A controller directory with the spec and `plan.json`: the plan `cutover plan` makes of the
 * spec (the sudoers edits), with the whole-file changes of {@link wholeChanges} (or `changes`).
 */
async function planned(changes: () => Change[] = wholeChanges): Promise<string> {
  const ctl = mkdtempSync(join(kit.dir, 'ctl-'))
  writeFileSync(join(ctl, 'cutover.yaml'), spec())
  const plan = await cutover(['plan', '--out', 'plan.json'], ctl, env())
  expect(plan.err).toBe('')
  expect(plan.code).toBe(0)
  const doc = JSON.parse(readFileSync(join(ctl, 'plan.json'), 'utf8')) as { changes: Change[] }
  expect(doc.changes.map((c) => [c.machine, c.target])).toEqual([
    ['m1', 'etc/sudoers.d/mentat'],
    ['m2', 'etc/sudoers.d/mentat'],
  ])
  doc.changes.push(...changes())
  writeFileSync(join(ctl, 'plan.json'), JSON.stringify(doc, null, 2), { mode: 0o600 })
  return ctl
}

/** What both machines hold once {@link wholeChanges} applied, from what they held before (sudoers aside). */
function exchanged(before: Record<string, Record<string, string>>): Record<string, string> {
  const hub = before.m1!
  const alt = before.m2!
  const out: Record<string, string> = {}
  for (const p of ['etc/hostname', 'etc/warden_client/cert.pem', 'etc/warden_client/key.pem']) {
    out[`m1:${p}`] = alt[p]!
    out[`m2:${p}`] = hub[p]!
  }
  // an existing target keeps its mode and owner, a new one gets the source's
  out['m2:etc/mentat/core.json'] = hub['etc/mentat/core.json']!
  out['m2:etc/mentat/new.json'] = hub['etc/mentat/new.json']!
  return out
}

/** The files {@link exchanged} names, as they are now. */
function wholeFilesNow(): Record<string, string> {
  const now = machinesNow()
  const out: Record<string, string> = {}
  for (const k of Object.keys(exchanged(now))) {
    const [m, p] = [k.slice(0, 2), k.slice(3)]
    out[k] = now[m]![p]!
  }
  return out
}

describe.runIf(need('sshd') && need('visudo'))(
  'copy and exchange across two machines over real sshd',
  () => {
    it(
      'applies the exchange and the copy with the other steps in one fleet transaction; rollback restores both sides',
      async () => {
        writeTrees()
        const before = machinesNow()
        const ctl = await planned()
        const applied = await cutover(['apply', 'plan.json'], ctl, env())
        expect(applied.err).toBe('')
        expect(applied.code).toBe(0)
        expect(applied.out).toMatch(/^Applied 10 file\(s\) on 2 machine\(s\) in fleet transaction/)
        expect(wholeFilesNow()).toEqual(exchanged(before))
        for (const m of kit.fleet.machines) {
          expect(readFileSync(join(m.root, 'etc/sudoers.d/mentat'), 'utf8')).toContain(
            'mentat ALL=(root) NOPASSWD: /usr/sbin/service mentat restart',
          )
          expect(strays(m.root)).toEqual([])
        }
        // the private keys swapped stay 0600
        for (const m of kit.fleet.machines)
          expect(statSync(join(m.root, 'etc/warden_client/key.pem')).mode & 0o777).toBe(0o600)
        // each machine journals the exchanges it made, by their hashes: never a byte of the files
        for (const m of kit.fleet.machines) {
          const tx = readdirSync(join(m.root, 'var/lib/cutover/tx'))
          expect(tx).toHaveLength(1)
          const text = readFileSync(
            join(m.root, 'var/lib/cutover/tx', tx[0]!, 'journal.json'),
            'utf8',
          )
          const j = JSON.parse(text) as {
            targets: Array<{
              target: string
              once?: Array<{ id: string; was: string[]; wrote: string[] }>
            }>
          }
          const key = j.targets.find((t) => t.target === 'etc/warden_client/key.pem')!
          const other = m === HUB() ? ALT() : HUB()
          expect(key.once).toEqual([
            {
              id: 'exchange [m1:etc/warden_client/key.pem, m2:etc/warden_client/key.pem]',
              was: [sha(readFileSync(join(other.root, 'etc/warden_client/key.pem')))],
              wrote: [sha(readFileSync(join(m.root, 'etc/warden_client/key.pem')))],
            },
          ])
          for (const k of [HUB(), ALT()])
            expect(text).not.toContain(
              readFileSync(join(k.root, 'etc/warden_client/key.pem'), 'utf8').split('\n')[1]!,
            )
        }

        const rolled = await cutover(['rollback', '--yes'], ctl, env())
        expect(rolled.err).toBe('')
        expect(rolled.code).toBe(0)
        // both sides restored, the new file removed: the machines are as before, byte for byte
        expect(machinesNow()).toEqual(before)
      },
      SSH_TEST_MS,
    )

    const failures: Array<{
      what: string
      setup?: () => void
      during?: () => void
      err: RegExp
    }> = [
      {
        what: "visudo rejects the sudoers file on one machine (the exchange's other side)",
        setup: () =>
          writeTrees((name, root) => {
            if (name === 'mentat-alt')
              writeFileSync(join(root, 'etc/sudoers.d/mentat'), 'Defaults bogus_option\n')
          }),
        err: /m2: [\s\S]*etc\/sudoers\.d\/mentat[\s\S]*unknown defaults entry/,
      },
      {
        what: 'a target changed since the plan on one machine',
        during: () => writeFileSync(join(ALT().root, 'etc/mentat/core.json'), '{"edited": 1}\n'),
        err: /m2: [\s\S]*etc\/mentat\/core\.json: changed since the plan/,
      },
      {
        what: 'a source changed since the plan',
        during: () => writeFileSync(join(HUB().root, 'etc/mentat/new.json'), '{"edited": 1}\n'),
        err: /m2: [\s\S]*etc\/mentat\/new\.json: its source m1:etc\/mentat\/new\.json changed since the plan/,
      },
    ]
    for (const f of failures)
      it(
        `changes nothing on either machine, certificates included, when ${f.what}`,
        async () => {
          if (f.setup) f.setup()
          else writeTrees()
          const ctl = await planned()
          f.during?.()
          const before = machinesNow()
          const applied = await cutover(['apply', 'plan.json'], ctl, env())
          expect(applied.code).toBe(1)
          expect(applied.err).toMatch(/not applied, nothing was changed on any machine/)
          expect(applied.err).toMatch(f.err)
          expect(applied.err).not.toMatch(/\n\s+at /)
          expect(machinesNow()).toEqual(before)
          for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
        },
        SSH_TEST_MS,
      )

    it(
      'changes nothing when the machine files are copied from cannot be reached, naming it and the files',
      async () => {
        writeTrees()
        // only m2 changes: m1 is the source of its file
        const ctl = await planned(() => [
          wholeChange('m1', 'etc/mentat/core.json', 'm2', 'etc/mentat/core.json'),
        ])
        const doc = JSON.parse(readFileSync(join(ctl, 'plan.json'), 'utf8')) as {
          changes: Change[]
        }
        doc.changes = doc.changes.filter((c) => c.machine === 'm2')
        writeFileSync(join(ctl, 'plan.json'), JSON.stringify(doc))
        const before = machinesNow()
        await HUB().stop()
        try {
          const applied = await cutover(['apply', 'plan.json'], ctl, env())
          expect(applied.code).toBe(1)
          expect(applied.err).toMatch(
            /not applied, nothing was changed on any machine:\n\s+m1: [^\n]*\n\s+\(the source of m2:etc\/mentat\/core\.json\)/,
          )
          expect(machinesNow().m2).toEqual(before.m2)
        } finally {
          await HUB().start()
        }
        expect(machinesNow()).toEqual(before)
      },
      SSH_TEST_MS,
    )

    for (const point of ['fleet:prepared', 'fleet:decided'] as const)
      it(
        `killed at ${point}: recover finishes the exchange on both machines, or undoes it on both`,
        async () => {
          writeTrees()
          const before = machinesNow()
          const ctl = await planned()
          const killed = await cutover(['apply', 'plan.json'], ctl, {
            ...env(),
            CUTOVER_FAULT_INJECT: point,
          })
          expect(killed.signal).toBe('SIGKILL')
          const recovered = await cutover(['recover'], ctl, env())
          expect(recovered.err).toBe('')
          expect(recovered.code).toBe(0)
          if (point === 'fleet:prepared') expect(machinesNow()).toEqual(before)
          else expect(wholeFilesNow()).toEqual(exchanged(before))
          for (const m of kit.fleet.machines) expect(strays(m.root)).toEqual([])
        },
        SSH_TEST_MS,
      )
  },
)

/** A throwaway OpenSSH private key, made for the test. */
function sshKey(dir: string, name: string): string {
  const file = join(dir, name)
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', file])
  return readFileSync(file, 'utf8')
}

/** The entries of a snapshot under `prefix`, by their path below it. */
function under(files: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(
    Object.entries(files)
      .filter(([k]) => k.startsWith(`${prefix}/`))
      .map(([k, v]) => [k.slice(prefix.length + 1), v]),
  )
}

describe.runIf(need('sshd') && need('ssh-keygen'))(
  'copy and exchange planned by cutover plan over real sshd',
  () => {
    it(
      'applies a tree (new directories, a link, a binary file, a removal), a local file and an exchange; a second plan is empty; rollback restores both machines byte for byte',
      async () => {
        const ctl = mkdtempSync(join(kit.dir, 'ctl-'))
        writeTrees()
        const put = (root: string, rel: string, text: string | Buffer, mode = 0o644) => {
          mkdirSync(join(root, rel, '..'), { recursive: true })
          writeFileSync(join(root, rel), text)
          chmodSync(join(root, rel), mode)
        }
        const hub = HUB().root
        const alt = ALT().root
        put(hub, 'etc/warden_client/key.pem', sshKey(ctl, 'hub-key'), 0o640)
        put(alt, 'etc/warden_client/key.pem', sshKey(ctl, 'alt-key'), 0o640)
        put(hub, 'etc/mentat/sub/deeper/extra.json', '{ "extra": true }\n', 0o640)
        chmodSync(join(hub, 'etc/mentat/sub'), 0o750)
        symlinkSync('core.json', join(hub, 'etc/mentat/current.json'))
        put(hub, 'etc/mentat/blob.bin', Buffer.from([0x61, 0, 0x62, 0xff]))
        put(alt, 'etc/mentat/stale.json', '{}\n')
        // links the source lacks: removed themselves, never what they lead to
        symlinkSync('core.json', join(alt, 'etc/mentat/stale-link.json'))
        symlinkSync('nowhere', join(alt, 'etc/mentat/dangling'))
        mkdirSync(join(alt, 'etc/mentat/old.d'))
        put(ctl, 'files/motd', 'Welcome to Mentat\n')
        writeFileSync(
          join(ctl, 'cutover.yaml'),
          [
            'version: 1',
            'machines:',
            ...kit.fleet.machines.map((m) => `  ${m.name}: { ssh: ${m.name}, root: ${m.root} }`),
            'steps:',
            '  - copy: { from: m1:etc/mentat/, to: m2:etc/mentat/, delete: true }',
            '  - copy: { from: files/motd, to: [m1:etc/motd, m2:etc/motd] }',
            '  - exchange:',
            '      pairs:',
            '        - [m1:etc/hostname, m2:etc/hostname]',
            '        - [m1:etc/warden_client/cert.pem, m2:etc/warden_client/cert.pem]',
            '        - [m1:etc/warden_client/key.pem, m2:etc/warden_client/key.pem]',
            '',
          ].join('\n'),
        )
        const before = machinesNow()

        const plan = await cutover(['plan', '--out', 'plan.json', '--quiet'], ctl, env())
        expect(plan.err).toBe('')
        expect(plan.code).toBe(0)
        const doc = JSON.parse(readFileSync(join(ctl, 'plan.json'), 'utf8')) as {
          changes: Change[]
        }
        const extra = doc.changes.find(
          (c) => c.machine === 'm2' && c.target === 'etc/mentat/sub/deeper/extra.json',
        )
        expect(extra?.whole?.dirs).toHaveLength(2)

        const applied = await cutover(['apply', 'plan.json'], ctl, env())
        expect(applied.err).toBe('')
        expect(applied.code).toBe(0)
        const now = machinesNow()
        // /etc/mentat on m2 is m1's, but for the directory the source lacks (kept)
        const { 'old.d': kept, ...copied } = under(now.m2!, 'etc/mentat')
        expect(kept).toBe('dir 755')
        expect(copied).toEqual(under(now.m1!, 'etc/mentat'))
        expect(under(now.m1!, 'etc/mentat')).toEqual(under(before.m1!, 'etc/mentat'))
        for (const p of [
          'etc/hostname',
          'etc/warden_client/cert.pem',
          'etc/warden_client/key.pem',
        ]) {
          expect(now.m1![p]).toBe(before.m2![p])
          expect(now.m2![p]).toBe(before.m1![p])
        }
        for (const m of kit.fleet.machines) {
          expect(readFileSync(join(m.root, 'etc/motd'), 'utf8')).toBe('Welcome to Mentat\n')
          expect(strays(m.root)).toEqual([])
        }

        // applied: nothing left to plan, the exchange is not planned back
        const again = await cutover(['plan', '--json'], ctl, env())
        expect(again.err).toBe('')
        expect((JSON.parse(again.out) as { changes: unknown[] }).changes).toEqual([])

        const rolled = await cutover(['rollback', '--yes'], ctl, env())
        expect(rolled.err).toBe('')
        expect(rolled.code).toBe(0)
        // the links, files and directories the copy made are gone, the removed file is back
        expect(machinesNow()).toEqual(before)
      },
      SSH_TEST_MS,
    )
  },
)
