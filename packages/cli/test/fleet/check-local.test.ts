import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cutover, NEW, OLD } from './fleet-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

// `cutover check` on roots of this machine: a root other than / is resolved from its own
// etc/hosts (this machine's resolver would read /etc/hosts), the checks run here.
let server: Server
let open: number
beforeAll(async () => {
  server = createServer((s) => s.end())
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  open = (server.address() as { port: number }).port
})
afterAll(() => new Promise<void>((done) => server.close(() => done())))

function tree(hosts: string, checks: string[]): string {
  const dir = tempDir('cutover-check-')
  for (const m of ['a', 'b']) mkdirSync(join(dir, m, 'etc'), { recursive: true })
  writeFileSync(join(dir, 'a/etc/hosts'), hosts)
  writeFileSync(join(dir, 'b/etc/hosts'), `${NEW} db.example.net\n10.0.0.7 web.example.net\n`)
  writeFileSync(
    join(dir, 'cutover.yaml'),
    [
      'version: 1',
      'profiles: [test, live]',
      'machines:',
      '  a: { root: a }',
      '  b: { root: b }',
      'hosts:',
      `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
      '  web.example.net: { old: 10.0.0.6, new: 10.0.0.7 }',
      ...(checks.length ? ['checks:', ...checks.map((c) => `  - ${c}`)] : []),
      'steps:',
      '  - hosts: { files: [etc/hosts], ensure: new }',
      '',
    ].join('\n'),
  )
  return dir
}

describe('cutover check on local-directory machines', () => {
  it('passes when every name resolves to its new address in each root and every check passes', async () => {
    const dir = tree(`${NEW} db.example.net db\n10.0.0.7 web.example.net\n`, [
      `{ addr: "tcp://127.0.0.1:${open}", reachable: true, timeout: 10000 }`,
      '{ command: "test -d /", exit-status: 0, on: [a] }',
      '{ command: "exit 3", exit-status: 3, profiles: [live] }',
    ])
    const r = await cutover(['check', '--profile', 'live'], dir)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const lines = r.out.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^MACHINE +CHECK +EXPECTED +GOT +OK$/)
    expect(lines.slice(1, -1).map((l) => l.split(/ {2,}/))).toEqual([
      [
        'a',
        'name db.example.net',
        NEW,
        `${NEW} (from ${join(dir, 'a/etc/hosts')}: the root is not /)`,
        'ok',
      ],
      [
        'a',
        'name web.example.net',
        '10.0.0.7',
        `10.0.0.7 (from ${join(dir, 'a/etc/hosts')}: the root is not /)`,
        'ok',
      ],
      [
        'a',
        `addr tcp://127.0.0.1:${open}`,
        'reachable',
        expect.stringMatching(/^reachable \((nc -z|bash \/dev\/tcp)\)$/),
        'ok',
      ],
      ['a', 'command test -d /', 'exit 0', 'exit 0', 'ok'],
      ['a', 'command exit 3', 'exit 3', 'exit 3', 'ok'],
      [
        'b',
        'name db.example.net',
        NEW,
        `${NEW} (from ${join(dir, 'b/etc/hosts')}: the root is not /)`,
        'ok',
      ],
      [
        'b',
        'name web.example.net',
        '10.0.0.7',
        `10.0.0.7 (from ${join(dir, 'b/etc/hosts')}: the root is not /)`,
        'ok',
      ],
      [
        'b',
        `addr tcp://127.0.0.1:${open}`,
        'reachable',
        expect.stringMatching(/^reachable /),
        'ok',
      ],
      ['b', 'command exit 3', 'exit 3', 'exit 3', 'ok'],
    ])
    expect(lines.at(-1)).toBe('All 9 check(s) passed on 2 machine(s).')
  })

  it('fails naming machine and check, shows what it got; --json carries the same rows', async () => {
    const closed = await new Promise<number>((done) => {
      const s = createServer()
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => done(p))
      })
    })
    // a: the old address first (the line glibc returns), the new one after
    const dir = tree(`${OLD} db.example.net\n${NEW} db.example.net\n`, [
      `{ addr: "tcp://127.0.0.1:${closed}", timeout: 500, on: [b] }`,
      '{ command: "sleep 5", timeout: 300, on: [b] }',
      '{ command: "false", profiles: [live] }',
    ])
    const r = await cutover(['check', '--machine', 'a', '--machine', 'b', '--json'], dir)
    expect(r.code).toBe(1)
    const doc = JSON.parse(r.out) as { ok: boolean; checks: Array<Record<string, unknown>> }
    expect(doc.ok).toBe(false)
    expect(doc.checks.filter((c) => !c.ok)).toEqual([
      {
        machine: 'a',
        check: 'name db.example.net',
        expected: NEW,
        got: `${OLD} (then ${NEW}) (from ${join(dir, 'a/etc/hosts')}: the root is not /)`,
        ok: false,
      },
      {
        machine: 'a',
        check: 'name web.example.net',
        expected: '10.0.0.7',
        got: `not resolved (from ${join(dir, 'a/etc/hosts')}: the root is not /)`,
        ok: false,
      },
      {
        machine: 'b',
        check: `addr tcp://127.0.0.1:${closed}`,
        expected: 'reachable',
        // refused at once, or no answer in time when the machine is slow to start the probe
        got: expect.stringMatching(
          /^not reachable \((nc -z|bash \/dev\/tcp)(, no answer within 500 ms)?\)$/,
        ),
        ok: false,
      },
      {
        machine: 'b',
        check: 'command sleep 5',
        expected: 'exit 0',
        got: 'did not finish within 0.3 s: stopped',
        ok: false,
      },
    ])
    // the check of the profile live is not run without --profile live
    expect(doc.checks.some((c) => c.check === 'command false')).toBe(false)
    expect(r.err).toBe(
      `cutover: check failed: 4 of 6 check(s) on 2 machine(s): a: name db.example.net; a: name web.example.net; b: addr tcp://127.0.0.1:${closed}; b: command sleep 5\n`,
    )
  })

  it('a name that also resolves to another address fails, whichever comes first', async () => {
    // the new line first: getaddrinfo may sort either first, gethostbyname gives the file's first
    const dir = tree(`${NEW} db.example.net\n${OLD} db.example.net\n10.0.0.7 web.example.net\n`, [])
    const r = await cutover(['check', '--json', '--machine', 'a'], dir)
    expect(r.code).toBe(1)
    const rows = (JSON.parse(r.out) as { checks: Array<Record<string, unknown>> }).checks
    expect(rows.map((x) => [x.check, x.got, x.ok])).toEqual([
      [
        'name db.example.net',
        `${NEW} (then ${OLD}) (from ${join(dir, 'a/etc/hosts')}: the root is not /)`,
        false,
      ],
      [
        'name web.example.net',
        `10.0.0.7 (from ${join(dir, 'a/etc/hosts')}: the root is not /)`,
        true,
      ],
    ])
    expect(r.err).toBe(
      'cutover: check failed: 1 of 2 check(s) on 1 machine(s): a: name db.example.net\n',
    )
  })

  it('apply --check: the apply commits, then the check runs (and fails the command when it fails)', async () => {
    const dir = tree(`${OLD} db.example.net\n10.0.0.6 web.example.net\n`, [
      '{ command: "false", profiles: [live] }',
    ])
    const before = await cutover(['check', '--quiet'], dir)
    expect(before.code).toBe(1)
    expect(before.out).toMatch(/^MACHINE .*\na {2}.*name db\.example\.net .*FAIL\n/)
    const applied = await cutover(['apply', '--profile', 'test', '--yes', '--check'], dir)
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
    expect(applied.out).toMatch(
      /Applied 1 file\(s\) on 1 machine\(s\)[\s\S]*All 4 check\(s\) passed on 2 machine\(s\)\.\n1 check\(s\) of other profiles not run\.\n$/,
    )
    // a check that fails after the commit: the command fails, what was applied stays
    writeFileSync(join(dir, 'a/etc/hosts'), `${OLD} db.example.net\n10.0.0.6 web.example.net\n`)
    const failed = await cutover(['apply', '--profile', 'live', '--yes', '--check'], dir)
    expect(failed.code).toBe(1)
    expect(failed.out).toMatch(/Applied 1 file\(s\) on 1 machine\(s\)/)
    expect(failed.err).toBe(
      'cutover: check failed: 2 of 6 check(s) on 2 machine(s): a: command false; b: command false\n',
    )
    expect(readFileSync(join(dir, 'a/etc/hosts'), 'utf8')).toContain(NEW)
  })

  it('a check that outruns the tool timeout fails its machine with a row, and the others are still checked', async () => {
    const dir = tree(`${NEW} db.example.net\n10.0.0.7 web.example.net\n`, [
      '{ command: "sleep 5", timeout: 4000, on: [a] }',
    ])
    const r = await cutover(['check', '--json'], dir, { CUTOVER_TOOL_TIMEOUT_MS: '1000' })
    expect(r.code).toBe(1)
    const rows = (JSON.parse(r.out) as { checks: Array<Record<string, unknown>> }).checks
    expect(rows.map((x) => [x.machine, x.check, x.ok])).toEqual([
      ['a', 'checks', false],
      ['b', 'name db.example.net', true],
      ['b', 'name web.example.net', true],
    ])
    expect(rows[0]!.got).toMatch(/ran longer than 1 s and was killed/)
  })
})
