import { createHash } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  applyPlanDocument,
  planTargets,
  type PlanDocChange,
  type PlanDocument,
  type PlanDocWhole,
} from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The replay of whole-file changes (`copy`, `exchange`) at apply: the new bytes are read again
 * through `readWhole` and checked against the plan; the target the transaction gets carries the
 * source's mode, owner, link and the directories to create, or the removal.
 */

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`

function root(): string {
  const dir = realpathSync(tempDir('cutover-apply-whole-'))
  mkdirSync(join(dir, 'etc/app'), { recursive: true })
  writeFileSync(join(dir, 'etc/app/old.conf'), 'old\n')
  return dir
}

function change(
  target: string,
  before: string,
  after: string,
  whole: PlanDocWhole,
  mode = '0640',
): PlanDocChange {
  return {
    target,
    kind: whole.once ? 'exchange' : 'copy',
    before,
    after,
    mode,
    encoding: 'utf8',
    validators: [],
    edits: [],
    diff: '',
    whole,
  }
}

function doc(r: string, changes: PlanDocChange[]): PlanDocument {
  return {
    version: 1,
    profile: null,
    root: r,
    spec: sha('spec'),
    changes,
    database: [],
    leftovers: [],
    notes: [],
    secrets: [],
  }
}

const from = { machine: 'hub', path: 'etc/app/new.conf' }
const options = (r: string, sources: Record<string, string>) => ({
  stateDir: join(r, 'var/lib/cutover'),
  env: {},
  validator: () => undefined,
  readWhole: async (c: PlanDocChange) => {
    const f = c.whole!.from!
    const key = 'local' in f ? f.local : `${f.machine}:${f.path}`
    if (!(key in sources))
      throw Object.assign(new Error(`${key}: no such file`), { code: 'ENOENT' })
    return Buffer.from(sources[key]!)
  },
})

describe('whole-file changes at apply', () => {
  it('builds the targets: bytes of the source, mode, owner and directories of a new file, a link, a removal, an exchange record', async () => {
    const r = root()
    const { targets } = await planTargets(
      doc(r, [
        change('etc/new/sub/app.conf', 'absent', sha('new\n'), {
          type: 'file',
          from,
          owner: { uid: 12, gid: 34 },
          dirs: [
            { path: 'etc/new', mode: '0750', uid: 12, gid: 34 },
            { path: 'etc/new/sub', mode: '2770', uid: 0, gid: 34 },
          ],
        }),
        change('etc/app/link.conf', 'absent', sha('old.conf'), {
          type: 'symlink',
          symlink: 'old.conf',
          from: { machine: 'hub', path: 'etc/app/link.conf' },
        }),
        change('etc/app/old.conf', sha('old\n'), 'absent', { type: 'absent' }),
      ]),
      options(r, { 'hub:etc/app/new.conf': 'new\n', 'hub:etc/app/link.conf': 'old.conf' }),
    )
    expect(
      targets.map(({ validators: _, ...t }) => ({ ...t, content: t.content.toString() })),
    ).toEqual([
      {
        target: 'etc/new/sub/app.conf',
        path: join(r, 'etc/new/sub/app.conf'),
        exact: true,
        before: 'absent',
        content: 'new\n',
        mode: 0o640,
        owner: { uid: 12, gid: 34 },
        dirs: [
          { path: join(r, 'etc/new'), mode: 0o750, uid: 12, gid: 34 },
          { path: join(r, 'etc/new/sub'), mode: 0o2770, uid: 0, gid: 34 },
        ],
      },
      {
        target: 'etc/app/link.conf',
        path: join(r, 'etc/app/link.conf'),
        exact: true,
        before: 'absent',
        content: 'old.conf',
        mode: 0o640,
        symlink: 'old.conf',
      },
      {
        target: 'etc/app/old.conf',
        path: join(r, 'etc/app/old.conf'),
        exact: true,
        before: sha('old\n'),
        content: '',
        remove: true,
      },
    ])
  })

  it('journals an exchange as a one-time move: the hash before and after', async () => {
    const r = root()
    const once = 'exchange [hub:etc/app/old.conf, alt:etc/app/old.conf]'
    const d = doc(r, [
      change('etc/app/old.conf', sha('old\n'), sha('theirs\n'), {
        type: 'file',
        from: { machine: 'hub', path: 'etc/app/old.conf' },
        once,
      }),
    ])
    const o = options(r, { 'hub:etc/app/old.conf': 'theirs\n' })
    const { targets } = await planTargets(d, o)
    expect(targets[0]!.once).toEqual([{ id: once, was: [sha('old\n')], wrote: [sha('theirs\n')] }])
    // and the apply of one root writes it, an existing file keeping its mode
    await applyPlanDocument(d, o)
    expect(readFileSync(join(r, 'etc/app/old.conf'), 'utf8')).toBe('theirs\n')
    const journals = join(r, 'var/lib/cutover/tx')
    const [txid] = readdirSync(journals)
    const j = JSON.parse(readFileSync(join(journals, txid!, 'journal.json'), 'utf8')) as {
      targets: Array<{ once?: unknown }>
    }
    expect(j.targets[0]!.once).toEqual([
      { id: once, was: [sha('old\n')], wrote: [sha('theirs\n')] },
    ])
  })

  it('refuses, nothing written, a source that changed or is gone since the plan, naming it', async () => {
    const r = root()
    const d = doc(r, [
      change('etc/app/old.conf', sha('old\n'), sha('planned\n'), { type: 'file', from }),
      change('etc/app/other.conf', 'absent', sha('x\n'), {
        type: 'file',
        from: { local: '/srv/gone.conf' },
      }),
    ])
    await expect(
      applyPlanDocument(d, options(r, { 'hub:etc/app/new.conf': 'changed\n' })),
    ).rejects.toMatchObject({
      code: 'STALE_PLAN',
      message: expect.stringMatching(
        new RegExp(
          `etc/app/old\\.conf: its source hub:etc/app/new\\.conf changed since the plan \\(planned ${sha('planned\n')}, now ${sha('changed\n')}\\)\\n {2}etc/app/other\\.conf: its source /srv/gone\\.conf no longer exists`,
        ),
      ),
    })
    expect(readFileSync(join(r, 'etc/app/old.conf'), 'utf8')).toBe('old\n')
  })

  it('refuses a plan with whole-file changes without a reader, and directories that are not above their target', async () => {
    const r = root()
    const copy = change('etc/app/x.conf', 'absent', sha('new\n'), { type: 'file', from })
    await expect(
      planTargets(doc(r, [copy]), { stateDir: join(r, 'state'), validator: () => undefined }),
    ).rejects.toMatchObject({ code: 'PLAN_INVALID', message: expect.stringMatching(/fleet/) })
    for (const path of ['../etc', 'etc/other', '/etc', 'etc/app/x.conf'])
      await expect(
        planTargets(
          doc(r, [
            { ...copy, whole: { ...copy.whole!, dirs: [{ path, mode: '0755', uid: 0, gid: 0 }] } },
          ]),
          options(r, { 'hub:etc/app/new.conf': 'new\n' }),
        ),
      ).rejects.toMatchObject({
        code: 'PLAN_INVALID',
        message: expect.stringMatching(/not above it/),
      })
  })
})
