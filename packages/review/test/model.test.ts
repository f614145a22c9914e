import { afterEach, describe, expect, it } from 'vitest'
import type { PlanDocChange } from '@cutover/rewrite'
import { reviewOf, toMarkdown, wholeSummary } from '../src/index.js'
import { SPEC, cleanTrees, fleetDoc, hashOf, planDoc } from './plans.js'

afterEach(cleanTrees)

const FILES = {
  'etc/a.conf': 'db = 10.0.10.48\nname = oldname\nagain = oldname\n',
  'etc/b.conf': 'nothing here\n',
  'etc/app.ini': '[db]\nhost = 10.0.10.48\npassword = Summer2019!\n',
  'etc/odd/x\ny': 'host 10.0.10.48\n',
  'etc/other.txt': 'left 10.0.10.48\n',
}

describe('reviewOf a single-root plan document', () => {
  it('lists each changed file as the terminal does, with the counts of its rules and its diff', async () => {
    const doc = await planDoc(SPEC, FILES, { DB_PASSWORD: 'n3w-Secret' })
    const hash = hashOf(doc)
    const r = reviewOf(doc, { hash, saved: 'plan.json' })
    expect(r.hash).toBe(hash)
    expect(r.saved).toBe('plan.json')
    expect(r.root).toBe(doc.root)
    expect(r.machines).toEqual([])
    expect(r.spec).toBe(doc.spec)
    expect(r.profile).toBeNull()
    const byTarget = Object.fromEntries(r.files.map((f) => [f.target, f]))
    expect(Object.keys(byTarget).sort()).toEqual(['etc/a.conf', 'etc/app.ini', 'etc/odd/x\ny'])
    expect(byTarget['etc/a.conf']).toMatchObject({
      path: 'etc/a.conf',
      kind: 'text',
      added: 3,
      removed: 3,
      rules: 'addresses ×1, replace ×2',
      sensitive: false,
      binary: false,
    })
    expect(byTarget['etc/a.conf']!.whole).toBeUndefined()
    expect(byTarget['etc/app.ini']!.rules).toBe('addresses ×1, set.db.password ×1')
    // a name with a newline is quoted: it starts no line of its own
    expect(byTarget['etc/odd/x\ny']!.path).toBe('"etc/odd/x\\ny"')
    for (const f of r.files) {
      expect(f.id).toMatch(/^[a-z0-9-]+$/)
      expect(f.diff).toBe(doc.changes.find((c) => c.target === f.target)!.diff)
    }
    expect(new Set(r.files.map((f) => f.id)).size).toBe(r.files.length)
    expect(r.totals).toEqual({
      files: 3,
      machines: 0,
      added: r.files.reduce((n, f) => n + f.added, 0),
      removed: r.files.reduce((n, f) => n + f.removed, 0),
      leftovers: r.leftovers.flatMap((g) => g.items).length,
      accepted: 0,
      warnings: r.warnings.length,
    })
    expect(JSON.stringify(r)).not.toContain('n3w-Secret')
    expect(JSON.stringify(r)).not.toContain('Summer2019!')
  })

  it('gives the same identifiers for the same files in another plan', async () => {
    const a = reviewOf(await planDoc(SPEC, FILES, { DB_PASSWORD: 'x' }), { hash: 'sha256:0' })
    const b = reviewOf(await planDoc(SPEC, FILES, { DB_PASSWORD: 'y' }), { hash: 'sha256:1' })
    expect(a.files.map((f) => f.id)).toEqual(b.files.map((f) => f.id))
    expect(a.saved).toBeUndefined()
  })

  it('groups open leftovers by their reason, accepted ones apart, notes by severity', async () => {
    const doc = await planDoc(SPEC, FILES, { DB_PASSWORD: 'x' })
    // leftovers and notes as a document may hold them (another step kind or an accept: entry)
    doc.leftovers.push(
      { target: 'etc/z', line: 1, col: 2, text: '10.0.10.48\u001b[31m', reason: 'why \u202e' },
      { target: 'etc/y', line: 3, col: 4, text: '10.0.10.48', reason: 'because', accepted: 'ok' },
      { target: 'etc/w', line: 5, col: 6, text: '10.0.10.48', reason: 'why \u202e' },
    )
    doc.notes.push(
      { target: 'etc/n', line: 2, col: 1, code: 'X_W', message: 'careful', severity: 'warning' },
      { target: 'etc/m', code: 'X_N', message: 'fyi', severity: 'note' },
    )
    const r = reviewOf(doc, { hash: 'sha256:0' })
    const group = r.leftovers.find((g) => g.reason === 'why <U+202E>')!
    expect(group.items.map((l) => [l.path, l.line, l.col, l.text])).toEqual([
      ['etc/z', 1, 2, '10.0.10.48^[[31m'],
      ['etc/w', 5, 6, '10.0.10.48'],
    ])
    expect(r.accepted).toEqual([
      { path: 'etc/y', line: 3, col: 4, text: '10.0.10.48', reason: 'because', accepted: 'ok' },
    ])
    expect(r.warnings).toContainEqual({
      path: 'etc/n',
      line: 2,
      col: 1,
      code: 'X_W',
      message: 'careful',
      severity: 'warning',
    })
    expect(r.notes).toContainEqual({ path: 'etc/m', code: 'X_N', message: 'fyi', severity: 'note' })
    expect(r.totals.leftovers).toBe(r.leftovers.flatMap((g) => g.items).length)
    expect(r.totals.accepted).toBe(1)
  })

  it('lists the validate: commands with the files each checks', async () => {
    const spec = SPEC.replace(
      'replace: { oldname: newname } }',
      'replace: { oldname: newname }, validate: "grep -q . %s" }',
    )
    const r = reviewOf(await planDoc(spec, FILES, { DB_PASSWORD: 'x' }), { hash: 'sha256:0' })
    expect(r.validators).toEqual([
      { command: 'validate: grep -q . %s', files: ['etc/a.conf', '"etc/odd/x\\ny"'] },
    ])
  })

  it("lists the step kinds' validators too, each with its files", async () => {
    const spec = `version: 1
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - php: { files: ['www/*.php'], addresses: new }
  - text: { files: [etc/hosts.conf], addresses: new, validate: "grep -q . %s" }
`
    const r = reviewOf(
      await planDoc(spec, {
        'www/a.php': "<?php $db = '10.0.10.48';\n",
        'www/b.php': "<?php $db = '10.0.10.48';\n",
        'etc/hosts.conf': 'db 10.0.10.48\n',
      }),
      { hash: 'sha256:0' },
    )
    expect(r.validators).toEqual([
      { command: 'validate: grep -q . %s', files: ['etc/hosts.conf'] },
      { command: 'php-lint', files: ['www/a.php', 'www/b.php'] },
    ])
    // plan runs php-lint on the planned text too: the comment says only what apply runs
    expect(toMarkdown(r)).toContain(
      '\n\nApply runs these on the staged files, on each file’s machine, before installing anything:\n\n',
    )
  })
})

describe('reviewOf a fleet plan document', () => {
  it('names the machine of each file and where each machine is', async () => {
    const doc = await fleetDoc(
      `version: 1
machines:
  finance: { root: /srv/finance }
  timesheets: { ssh: root@timesheets, port: 2222 }
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - text: { files: [etc/hosts.conf], addresses: new }
`,
      {
        finance: { 'etc/hosts.conf': 'db 10.0.10.48\n' },
        timesheets: { 'etc/hosts.conf': 'db 10.0.10.48\n' },
      },
    )
    const r = reviewOf(doc, { hash: 'sha256:0' })
    expect(r.root).toBeUndefined()
    expect(r.machines).toEqual([
      { name: 'finance', at: `local ${doc.machines[0]!.root}` },
      { name: 'timesheets', at: 'root@timesheets:2222' },
    ])
    expect(r.files.map((f) => [f.machine, f.path])).toEqual([
      ['finance', 'finance:etc/hosts.conf'],
      ['timesheets', 'timesheets:etc/hosts.conf'],
    ])
    expect(new Set(r.files.map((f) => f.id)).size).toBe(2)
    expect(r.totals.machines).toBe(2)
  })

  it('lists the files machine by machine, as the terminal does, whatever their order in the document', async () => {
    const doc = await fleetDoc(
      `version: 1
machines:
  hub: { root: /srv/hub }
  alt: { root: /srv/alt }
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - text: { files: ["etc/*.conf"], addresses: new, validate: "check %s" }
`,
      {
        hub: { 'etc/a.conf': 'db 10.0.10.48\n', 'etc/b.conf': 'db 10.0.10.48\n' },
        alt: { 'etc/a.conf': 'db 10.0.10.48\n', 'etc/b.conf': 'db 10.0.10.48\n' },
      },
    )
    // the files copied or exchanged between machines come after every machine's edits in the
    // document, one machine's and the other's interleaved: here, the same shape
    const [hubA, hubB, altA, altB] = doc.changes
    const shuffled = { ...doc, changes: [altA!, hubA!, altB!, hubB!] }
    const r = reviewOf(shuffled, { hash: 'sha256:0' })
    expect(r.files.map((f) => f.path)).toEqual([
      'hub:etc/a.conf',
      'hub:etc/b.conf',
      'alt:etc/a.conf',
      'alt:etc/b.conf',
    ])
    expect(r.validators).toEqual([
      {
        command: 'validate: check %s',
        files: ['hub:etc/a.conf', 'hub:etc/b.conf', 'alt:etc/a.conf', 'alt:etc/b.conf'],
      },
    ])
  })
})

describe('wholeSummary', () => {
  const change = (fields: Partial<PlanDocChange>): PlanDocChange => ({
    target: 'etc/x',
    kind: 'copy',
    before: 'sha256:' + '0'.repeat(64),
    after: 'sha256:' + '1'.repeat(64),
    mode: '0644',
    encoding: 'utf8',
    validators: [],
    edits: [],
    diff: '',
    ...fields,
  })
  it('says where a whole file comes from, quoting names as paths', () => {
    expect(
      wholeSummary(change({ whole: { type: 'file', from: { machine: 'hub', path: 'etc/x' } } })),
    ).toBe('from hub:etc/x')
    expect(
      wholeSummary(
        change({
          kind: 'exchange',
          whole: { type: 'file', from: { machine: 'b', path: 'a\nb' }, sensitive: true },
        }),
      ),
    ).toBe('exchanged with "b:a\\nb", sensitive')
    expect(
      wholeSummary(
        change({
          before: 'absent',
          whole: { type: 'file', from: { local: '/keys/k' }, binary: true },
        }),
      ),
    ).toBe('from /keys/k, binary (new)')
    expect(
      wholeSummary(
        change({
          whole: { type: 'symlink', symlink: '../z', from: { machine: 'a', path: 'etc/z' } },
        }),
      ),
    ).toBe('link to ../z (as a:etc/z)')
    expect(wholeSummary(change({ after: 'absent', whole: { type: 'absent' } }))).toBe(
      'removed: not in the source (delete: true)',
    )
  })
})
