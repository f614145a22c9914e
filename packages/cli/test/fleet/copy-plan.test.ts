import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { cutoverIn as cutover } from './fleet-kit.js'
import { mentatFleet, sha, type Doc } from './whole-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

describe('plan of copy and exchange on local-directory machines', () => {
  it('plans every whole-file change with where its bytes come from, and never shows a key', async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-plan-')
    const { ctl, hub, alt, keys } = mentatFleet(dir)
    const json = await cutover(['plan', '--json'], ctl)
    expect(json.err).toBe('')
    expect(json.code).toBe(0)
    const doc = JSON.parse(json.out) as Doc
    const byTarget = new Map(doc.changes.map((c) => [`${c.machine}:${c.target}`, c]))
    expect([...byTarget.keys()]).toEqual([
      'mentat-alt:etc/mentat/blob.bin',
      'mentat-alt:etc/mentat/core.json',
      'mentat-alt:etc/mentat/current.json',
      'mentat-alt:etc/mentat/secret.conf',
      'mentat-alt:etc/mentat/sub/extra.json',
      'mentat-alt:etc/mentat/token.txt',
      'mentat-alt:etc/mentat/stale.json',
      'mentat-hub:etc/motd',
      'mentat-alt:etc/motd',
      'mentat-hub:etc/hostname',
      'mentat-alt:etc/hostname',
      'mentat-hub:etc/warden_client/key.pem',
      'mentat-alt:etc/warden_client/key.pem',
    ])
    for (const c of doc.changes) {
      expect(c.edits).toEqual([])
      expect(c.kind).toBe(
        c.target.includes('mentat/') || c.target === 'etc/motd' ? 'copy' : 'exchange',
      )
    }
    // a file that differs: its diff, the target's mode kept, no owner (the target keeps its own)
    const core = byTarget.get('mentat-alt:etc/mentat/core.json')!
    expect(core.before).toBe(sha(readFileSync(join(alt, 'etc/mentat/core.json'))))
    expect(core.after).toBe(sha(readFileSync(join(hub, 'etc/mentat/core.json'))))
    expect(core.whole).toEqual({
      type: 'file',
      from: { machine: 'mentat-hub', path: 'etc/mentat/core.json' },
    })
    expect(core.diff).toContain(
      '--- a/mentat-alt:etc/mentat/core.json\n+++ b/mentat-alt:etc/mentat/core.json\n',
    )
    expect(core.diff).toContain(
      '-{ "host": "mentat-alt", "port": 1 }\n+{ "host": "mentat-hub", "port": 1 }',
    )
    // a new file in a new directory: the source's mode and owner, the directory made as the source's
    const extra = byTarget.get('mentat-alt:etc/mentat/sub/extra.json')!
    const uid = process.getuid!()
    const gid = process.getgid!()
    expect(extra).toMatchObject({ before: 'absent', mode: '0640' })
    expect(extra.whole).toEqual({
      type: 'file',
      from: { machine: 'mentat-hub', path: 'etc/mentat/sub/extra.json' },
      owner: { uid, gid },
      dirs: [{ path: 'etc/mentat/sub', mode: '0750', uid, gid }],
    })
    expect(extra.diff).toMatch(
      /^--- \/dev\/null\n\+\+\+ b\/mentat-alt:etc\/mentat\/sub\/extra\.json\n@@ -0,0 \+1 @@\n\+\{ "extra": true \}/,
    )
    // a link is made a link with the same text
    const link = byTarget.get('mentat-alt:etc/mentat/current.json')!
    expect(link.whole).toMatchObject({ type: 'symlink', symlink: 'core.json' })
    expect(link.after).toBe(sha('core.json'))
    // binary: its size and hash only
    const blob = byTarget.get('mentat-alt:etc/mentat/blob.bin')!
    expect(blob.whole).toMatchObject({ type: 'file', binary: true })
    expect(blob.diff).toBe(
      `--- /dev/null\n+++ b/mentat-alt:etc/mentat/blob.bin\n+(binary file, 3 bytes, ${sha('a\u0000b')})\n`,
    )
    // delete: true removes what the source lacks; a directory stays, with a note
    const stale = byTarget.get('mentat-alt:etc/mentat/stale.json')!
    expect(stale).toMatchObject({ after: 'absent', whole: { type: 'absent' } })
    expect(stale.diff).toBe(
      '--- a/mentat-alt:etc/mentat/stale.json\n+++ /dev/null\n@@ -1 +0,0 @@\n-{}\n',
    )
    expect(doc.notes).toEqual([
      expect.objectContaining({
        machine: 'mentat-alt',
        target: 'etc/mentat/old.d',
        code: 'DIR_KEPT',
      }),
    ])
    // a local source: its absolute path
    expect(byTarget.get('mentat-hub:etc/motd')!.whole).toMatchObject({
      type: 'file',
      from: { local: join(ctl, 'files/motd') },
    })
    // the exchange: each side from the other, once
    const hostname = byTarget.get('mentat-hub:etc/hostname')!
    expect(hostname.whole).toEqual({
      type: 'file',
      from: { machine: 'mentat-alt', path: 'etc/hostname' },
      once: 'exchange [mentat-hub:etc/hostname, mentat-alt:etc/hostname]',
    })
    expect(hostname.diff).toContain('-mentat-hub\n+mentat-alt')
    // a source of mode 0600 or stricter, and a path the step's glob marks: summaries only
    expect(byTarget.get('mentat-alt:etc/mentat/secret.conf')).toMatchObject({
      mode: '0600',
      whole: { sensitive: true },
      diff: expect.stringMatching(
        /^--- \/dev\/null\n\+\+\+ b\/mentat-alt:etc\/mentat\/secret\.conf\n\+\(sensitive file, 27 bytes, sha256:[0-9a-f]{64}\)\n$/,
      ),
    })
    expect(byTarget.get('mentat-alt:etc/mentat/token.txt')!.whole).toMatchObject({
      sensitive: true,
    })
    // key material: sensitive, whatever its mode; the summary only
    const key = byTarget.get('mentat-alt:etc/warden_client/key.pem')!
    expect(key.whole).toMatchObject({ type: 'file', sensitive: true })
    const hubKey = readFileSync(join(hub, 'etc/warden_client/key.pem'))
    expect(key.diff).toContain(`+(sensitive file, ${hubKey.length} bytes, ${sha(hubKey)})`)
    // the review, the JSON and the saved plan hold no byte of either key
    const review = await cutover(['plan'], ctl)
    expect(review.code).toBe(0)
    expect(review.out).toMatch(/Plan: 13 file\(s\) to change/)
    expect(review.out).toContain('mentat-alt:etc/warden_client/key.pem')
    expect(review.out).toContain('(sensitive file,')
    // each row says where its bytes come from
    const row = (target: string) => review.out.split('\n').find((l) => l.startsWith(`  ${target} `))
    expect(row('mentat-alt:etc/mentat/core.json')).toMatch(
      /copy +\+1 -1 +from mentat-hub:etc\/mentat\/core\.json$/,
    )
    expect(row('mentat-alt:etc/mentat/sub/extra.json')).toMatch(
      /from mentat-hub:etc\/mentat\/sub\/extra\.json \(new\)$/,
    )
    expect(row('mentat-alt:etc/mentat/stale.json')).toMatch(
      /removed: not in the source \(delete: true\)$/,
    )
    expect(row('mentat-alt:etc/warden_client/key.pem')).toMatch(
      /exchange +\+1 -1 +exchanged with mentat-hub:etc\/warden_client\/key\.pem, sensitive$/,
    )
    const saved = await cutover(['plan', '--out', 'plan.json', '--quiet'], ctl)
    expect(saved.code).toBe(0)
    const plan = readFileSync(join(ctl, 'plan.json'), 'utf8')
    expect(keys.length).toBeGreaterThan(2)
    for (const text of [json.out, review.out, review.err, plan])
      for (const line of keys) expect(text).not.toContain(line)
    // nothing of the bytes of any copied file is in the plan but its diff: a second plan after
    // the targets hold the source's bytes has no copy left
    writeFileSync(
      join(alt, 'etc/mentat/core.json'),
      readFileSync(join(hub, 'etc/mentat/core.json')),
    )
    const again = JSON.parse((await cutover(['plan', '--json'], ctl)).out) as Doc
    expect(again.changes.map((c) => `${c.machine}:${c.target}`)).not.toContain(
      'mentat-alt:etc/mentat/core.json',
    )
  })

  it('after apply, a second plan is empty: the copies hold their sources, the exchange is recorded', async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-plan-')
    const { ctl, hub, alt } = mentatFleet(dir)
    const applied = await cutover(['apply', '--yes', '--quiet'], ctl)
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
    expect(readFileSync(join(alt, 'etc/hostname'), 'utf8')).toBe('mentat-hub\n')
    expect(readFileSync(join(alt, 'etc/mentat/core.json'), 'utf8')).toBe(
      readFileSync(join(hub, 'etc/mentat/core.json'), 'utf8'),
    )
    // a new directory with its file, and a link made a link
    expect(readFileSync(join(alt, 'etc/mentat/sub/extra.json'), 'utf8')).toBe('{ "extra": true }\n')
    expect(readlinkSync(join(alt, 'etc/mentat/current.json'))).toBe('core.json')
    const again = await cutover(['plan', '--json'], ctl)
    expect(again.err).toBe('')
    expect((JSON.parse(again.out) as Doc).changes).toEqual([])
    // one side edited by hand since: the pair is left alone, with a warning naming that side
    writeFileSync(join(alt, 'etc/hostname'), 'mentat-other\n')
    const changed = JSON.parse((await cutover(['plan', '--json'], ctl)).out) as Doc
    expect(changed.changes).toEqual([])
    expect(changed.notes.filter((n) => n.code !== 'DIR_KEPT')).toEqual([
      expect.objectContaining({
        machine: 'mentat-alt',
        target: 'etc/hostname',
        code: 'ONCE_CHANGED',
        severity: 'warning',
      }),
    ])
  })

  it('a file both copied and edited by another step is WHOLE_FILE_CONFLICT, naming both steps', async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-plan-')
    const { ctl } = mentatFleet(
      dir,
      '  - text: { on: [mentat-alt], files: [etc/mentat/*.json], replace: { mentat-alt: mentat-new } }\n',
    )
    const r = await cutover(['plan'], ctl)
    expect(r.code).toBe(1)
    expect(r.out).toBe('')
    expect(r.err).toBe(
      'cutover: mentat-alt:etc/mentat/core.json is copied by step 1 (copy) and edited by step 4 (text): one plan either copies a file or edits it\n',
    )
  })

  it('a source named with a newline forges no line of the review', async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-plan-')
    const { ctl, hub } = mentatFleet(dir)
    writeFileSync(join(hub, 'etc/mentat/x\n+++ forged'), 'text\n')
    const r = await cutover(['plan'], ctl)
    expect(r.code).toBe(0)
    expect(r.out).toContain('+++ "b/mentat-alt:etc/mentat/x\\n+++ forged"\n')
    expect(r.out.split('\n').filter((l) => l.startsWith('+++ forged'))).toEqual([])
  })

  it('a whole-file step needs every machine it names planned', async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-plan-')
    const { ctl } = mentatFleet(dir)
    const r = await cutover(['plan', '--machine', 'mentat-alt'], ctl)
    expect(r.err).toBe(
      'cutover: step 1 (copy) also needs machine mentat-hub: plan it too (--machine)\n',
    )
    expect(r.code).toBe(1)
  })

  it('a PGP secret key block and an SSH2 private key are key material whatever their mode', async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-plan-')
    const { ctl, hub } = mentatFleet(dir)
    const pgp =
      '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGVpgpSecretBody4711\n-----END PGP PRIVATE KEY BLOCK-----\n'
    const ssh2 =
      '---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAssh2SecretBody4711\n---- END SSH2 ENCRYPTED PRIVATE KEY ----\n'
    writeFileSync(join(hub, 'etc/mentat/secring.asc'), pgp)
    writeFileSync(join(hub, 'etc/mentat/id_ssh2'), ssh2)
    const r = await cutover(['plan', '--json'], ctl)
    expect(r.code).toBe(0)
    expect(r.out).not.toContain('pgpSecretBody4711')
    expect(r.out).not.toContain('ssh2SecretBody4711')
    const doc = JSON.parse(r.out) as Doc
    for (const [name, text] of [
      ['secring.asc', pgp],
      ['id_ssh2', ssh2],
    ] as const) {
      const c = doc.changes.find((x) => x.target === `etc/mentat/${name}`)!
      expect(c.whole?.sensitive).toBe(true)
      expect(c.diff).toContain(`+(sensitive file, ${text.length} bytes, ${sha(text)})`)
    }
    const review = await cutover(['plan'], ctl)
    expect(review.out).not.toContain('SecretBody4711')
  })

  it("a tree copied with delete: true never copies or removes cutover's own state (var/lib/cutover)", async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-plan-')
    const { ctl, hub, alt } = mentatFleet(
      dir,
      '  - copy: { from: mentat-hub:var/, to: mentat-alt:var/, delete: true }\n',
    )
    mkdirSync(join(hub, 'var/www'), { recursive: true })
    writeFileSync(join(hub, 'var/www/index.html'), 'hub\n')
    mkdirSync(join(alt, 'var'), { recursive: true })
    const applied = await cutover(['apply', '--yes', '--quiet'], ctl)
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
    expect(readFileSync(join(alt, 'var/www/index.html'), 'utf8')).toBe('hub\n')
    // both machines now hold their own journals there: none is copied over the other's, none removed
    const again = await cutover(['plan', '--json'], ctl)
    expect(again.err).toBe('')
    expect((JSON.parse(again.out) as Doc).changes).toEqual([])
    const rolled = await cutover(['rollback', '--yes'], ctl)
    expect(rolled.err).toBe('')
    expect(rolled.code).toBe(0)
    expect(existsSync(join(alt, 'var/www/index.html'))).toBe(false)
  })

  it('a source over --max-file-size is refused, not read', async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-plan-')
    const { ctl, hub } = mentatFleet(dir)
    writeFileSync(join(hub, 'etc/mentat/big.json'), 'x'.repeat(4096))
    const r = await cutover(['plan', '--max-file-size', '2048'], ctl)
    expect(r.code).toBe(1)
    expect(r.out).toBe('')
    expect(r.err).toBe(
      'cutover: mentat-hub:etc/mentat/big.json: 4096 bytes, over the size limit of 2048 bytes of a file copied or exchanged whole; nothing was planned (raise the limit with --max-file-size)\n',
    )
  })

  it('a missing source names its machine and path', async (ctx) => {
    if (!need('ssh-keygen')) return ctx.skip()
    const dir = tempDir('cutover-copy-plan-')
    const { ctl } = mentatFleet(
      dir,
      '  - copy: { from: mentat-hub:etc/nothing.conf, to: mentat-alt:etc/nothing.conf }\n',
    )
    const r = await cutover(['plan'], ctl)
    expect(r.code).toBe(1)
    expect(r.err).toBe(
      'cutover: mentat-hub:etc/nothing.conf: no such file (the source of step 4, copy)\n',
    )
  })
})
