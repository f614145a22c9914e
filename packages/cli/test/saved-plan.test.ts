import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { makeTree, snapshot } from './tree.js'

// Saved plans are not trusted blindly (issue 14): whoever can write a plan file chooses what
// `apply` writes, as root.
const SPEC =
  'version: 1\nhosts:\n  f.example: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["etc/*.conf"], addresses: new }\n'
const NOBODY = 65534

function tree() {
  return makeTree({ 'cutover.yaml': SPEC, 'root/etc/app.conf': 'host 10.0.10.48\n' })
}

async function cli(cwd: string, ...argv: string[]) {
  const io = memoryIo({ cwd, env: {} })
  const code = await run(argv, io)
  return { code, out: io.out(), err: io.err() }
}

describe('plan --out', () => {
  it('replaces a link at the destination instead of writing through it', async () => {
    const dir = tree()
    writeFileSync(join(dir, 'victim'), 'keep me\n')
    symlinkSync(join(dir, 'victim'), join(dir, 'plan.json'))
    expect((await cli(dir, 'plan', '--root', 'root', '--out', 'plan.json')).code).toBe(0)
    expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('keep me\n')
    const st = lstatSync(join(dir, 'plan.json'))
    expect(st.isFile()).toBe(true)
    expect(st.mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')).changes[0].target).toBe(
      'etc/app.conf',
    )
  })

  it("never keeps a pre-existing file's owner or mode: the plan is a new file of this user, 0600", async () => {
    const dir = tree()
    writeFileSync(join(dir, 'plan.json'), '{}')
    chownSync(join(dir, 'plan.json'), NOBODY, NOBODY)
    chmodSync(join(dir, 'plan.json'), 0o666)
    expect((await cli(dir, 'plan', '--root', 'root', '--out', 'plan.json')).code).toBe(0)
    const st = statSync(join(dir, 'plan.json'))
    expect([st.uid, st.mode & 0o777]).toEqual([process.getuid!(), 0o600])
    expect(readFileSync(join(dir, 'plan.json'), 'utf8')).toContain('"target": "etc/app.conf"')
    // and no temp is left beside it
    expect(Object.keys(snapshot(dir)).filter((p) => p.includes('.tmp'))).toEqual([])
  })

  it('names the destination when it cannot be written, and leaves nothing behind', async () => {
    const dir = tree()
    mkdirSync(join(dir, 'plan.json'))
    const r = await cli(dir, 'plan', '--root', 'root', '--out', 'plan.json')
    expect(r.code).toBe(1)
    expect(r.err).toContain(`cannot save the plan to ${join(dir, 'plan.json')}`)
    expect(Object.keys(snapshot(dir)).filter((p) => p.includes('.tmp'))).toEqual([])
  })
})

describe('apply PLAN', () => {
  async function planned() {
    const dir = tree()
    expect((await cli(dir, 'plan', '--root', 'root', '--out', 'plan.json')).code).toBe(0)
    return dir
  }

  it('refuses a plan owned by another user, or writable by group or others, with nothing written', async () => {
    for (const [uid, mode, why] of [
      [NOBODY, 0o600, `the plan is owned by uid ${NOBODY}, not by you (uid ${process.getuid!()})`],
      [process.getuid!(), 0o620, 'the plan is writable by its group (mode 0620)'],
      [process.getuid!(), 0o602, 'the plan is writable by others (mode 0602)'],
    ] as const) {
      const dir = await planned()
      chownSync(join(dir, 'plan.json'), uid, uid)
      chmodSync(join(dir, 'plan.json'), mode)
      const before = snapshot(dir)
      const r = await cli(dir, 'apply', 'plan.json')
      expect(r.code).toBe(1)
      expect(r.err).toContain(`cutover: plan.json: refused: ${why}`)
      expect(snapshot(dir)).toEqual(before)
      expect(existsSync(join(dir, 'root/var/lib/cutover'))).toBe(false)
    }
  })

  it('refuses a tampered plan whose target is not a path in the root, even to create a file, with nothing written', async () => {
    const dir = await planned()
    const doc = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'))
    const create = (target: string) => ({
      ...doc.changes[0],
      target,
      before: 'absent',
      after: 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      mode: '0644',
      edits: [],
    })
    mkdirSync(join(dir, 'outside'))
    mkdirSync(join(dir, 'root/etc/cron.d'), { recursive: true })
    for (const [target, why] of [
      ['../outside/evil', 'change 1: target "../outside/evil" has a ".." part'],
      ['etc/../../outside/evil', 'change 1: target "etc/../../outside/evil" has a ".." part'],
      [
        join(dir, 'outside/evil'),
        `change 1: target "${join(dir, 'outside/evil')}" is an absolute path`,
      ],
    ]) {
      writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...doc, changes: [create(target!)] }), {
        mode: 0o600,
      })
      const before = snapshot(dir)
      const r = await cli(dir, 'apply', 'bad.json')
      expect(r.code).toBe(1)
      expect(r.err).toContain(`bad.json: not a cutover plan: ${why}`)
      expect(snapshot(dir)).toEqual(before)
    }
    // a path in the root that leads out of it through a link
    symlinkSync('../../../outside', join(dir, 'root/etc/cron.d/out'))
    writeFileSync(
      join(dir, 'bad.json'),
      JSON.stringify({ ...doc, changes: [create('etc/cron.d/out/evil')] }),
      { mode: 0o600 },
    )
    const r = await cli(dir, 'apply', 'bad.json')
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      `etc/cron.d/out -> ../../../outside leads to ${join(dir, 'outside')}, outside the root`,
    )
    expect(existsSync(join(dir, 'outside/evil'))).toBe(false)
  })
})

describe('apply PLAN checks every field it uses', () => {
  it('refuses a created file with a setuid, setgid or sticky mode, a malformed mode, validators or edit, with nothing written', async () => {
    const dir = tree()
    expect((await cli(dir, 'plan', '--root', 'root', '--out', 'plan.json')).code).toBe(0)
    const doc = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8'))
    const text = '#!/bin/sh\nid\n'
    const { createHash } = await import('node:crypto')
    const good = {
      ...doc.changes[0],
      target: 'etc/new.sh',
      before: 'absent',
      after: `sha256:${createHash('sha256').update(text).digest('hex')}`,
      mode: '0755',
      validators: [],
      edits: [{ line: 1, col: 1, rule: 'x', summary: '', pass: 0, start: 0, end: 0, text }],
    }
    for (const [change, why] of [
      [
        { mode: '4755' },
        'etc/new.sh: a file the plan creates gets a mode of at most 0777 (no setuid, setgid or sticky bit), got "4755"',
      ],
      [{ mode: '02755' }, 'etc/new.sh: a file the plan creates gets a mode of at most 0777'],
      [{ mode: 'rwx' }, 'etc/new.sh: "mode" must be an octal mode such as "0644", got "rwx"'],
      [{ validators: undefined }, 'etc/new.sh: "validators" must be a list of names'],
      [
        { encoding: 'ebcdic' },
        'etc/new.sh: "encoding" must be one of utf8, utf8-bom, latin1, got "ebcdic"',
      ],
      [
        { before: 'whatever' },
        'etc/new.sh: "before" must be "absent" or a sha256 hash, got "whatever"',
      ],
      [{ salt: 12 }, 'etc/new.sh: "salt" must be hex'],
      [{ allowUserWritable: 'yes' }, 'etc/new.sh: "allowUserWritable" can only be true'],
      [
        { edits: [{ ...good.edits[0], start: -1 }] },
        'an edit of etc/new.sh needs pass, start, end',
      ],
      // an encoding apply does not know (encodeValue would fail on it: an internal error, not a refusal)
      [
        {
          edits: [
            { ...good.edits[0], text: undefined, secret: { name: 'PW', encoding: ['rot13'] } },
          ],
        },
        'an edit of etc/new.sh has a malformed "secret"',
      ],
      [
        {
          edits: [
            {
              ...good.edits[0],
              text: undefined,
              secret: { name: 'PW', encoding: ['constructor'] },
            },
          ],
        },
        'an edit of etc/new.sh has a malformed "secret"',
      ],
    ] as const) {
      writeFileSync(
        join(dir, 'bad.json'),
        JSON.stringify({ ...doc, changes: [{ ...good, ...change }] }),
        { mode: 0o600 },
      )
      const before = snapshot(dir)
      const r = await cli(dir, 'apply', 'bad.json')
      expect(r.err).toContain(`bad.json: not a cutover plan: ${why}`)
      expect(r.code).toBe(1)
      expect(snapshot(dir)).toEqual(before)
    }
    // the same change as the plan writes it is applied: 0755, no setuid bit
    writeFileSync(join(dir, 'good.json'), JSON.stringify({ ...doc, changes: [good] }), {
      mode: 0o600,
    })
    expect(await cli(dir, 'apply', 'good.json')).toMatchObject({ code: 0, err: '' })
    expect(statSync(join(dir, 'root/etc/new.sh')).mode & 0o7777).toBe(0o755)
  })
})
