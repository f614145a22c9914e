import { describe, expect, it } from 'vitest'
import { parseSpec, SpecError } from '@cutover/rewrite'
import { changedLines, financeContext, planText } from '@cutover/test-kit'
import { iniStep, jsonStep, jsStep, phpStep, type PhpOptions } from '../src/index.js'

const ctx = financeContext({
  inventory: [
    { name: 'cloud.dept.example.edu', old: '172.20.0.10', new: '10.20.0.10' },
    { name: 'db.dept.example.edu', old: '172.20.0.5', new: '10.20.0.5' },
  ],
})

const OUTSIDE = (keys: string) => `old address: outside this step's keys (${keys})`

const NEXTCLOUD = `<?php
$CONFIG = array (
  'trusted_domains' =>
  array (
    0 => 'cloud.dept.example.edu',
    1 => '172.20.0.10',
  ),
  'dbhost' => '172.20.0.5',
  'overwrite.cli.url' => 'https://172.20.0.10',
  'redis' => array('host' => '172.20.0.5', 'port' => 6379),
);
`

const php = (o: Partial<PhpOptions>): PhpOptions => ({ files: ['x'], ...o })

describe('keys: in the php step', () => {
  it("keeps Nextcloud's trusted_domains an address while the rest becomes names, in two steps", async () => {
    const first = await planText(
      phpStep,
      NEXTCLOUD,
      php({ addresses: 'new', keys: ['trusted_domains'] }),
      ctx,
    )
    expect(changedLines(NEXTCLOUD, first.after)).toEqual([
      [6, "    1 => '172.20.0.10',", "    1 => '10.20.0.10',"],
    ])
    expect(first.leftovers.map((l) => [l.text, l.reason])).toEqual([
      ['172.20.0.5', OUTSIDE('trusted_domains')],
      ['172.20.0.10', OUTSIDE('trusted_domains')],
      ['172.20.0.5', OUTSIDE('trusted_domains')],
    ])
    const second = await planText(phpStep, first.after, php({ addresses: 'names' }), ctx)
    expect(changedLines(first.after, second.after)).toEqual([
      [8, "  'dbhost' => '172.20.0.5',", "  'dbhost' => 'db.dept.example.edu',"],
      [
        9,
        "  'overwrite.cli.url' => 'https://172.20.0.10',",
        "  'overwrite.cli.url' => 'https://cloud.dept.example.edu',",
      ],
      [
        10,
        "  'redis' => array('host' => '172.20.0.5', 'port' => 6379),",
        "  'redis' => array('host' => 'db.dept.example.edu', 'port' => 6379),",
      ],
    ])
    expect(second.leftovers).toEqual([])
  })

  it('names array elements by key path and position, at any depth, as set finds keys', async () => {
    const r = await planText(
      phpStep,
      NEXTCLOUD,
      php({ addresses: 'new', keys: ['redis.host', 'CONFIG.trusted_domains.1'] }),
      ctx,
    )
    expect(changedLines(NEXTCLOUD, r.after).map(([line]) => line)).toEqual([6, 10])
  })

  it('names $CFG->x properties, define constants, assignments by index and return arrays', async () => {
    const src = [
      '<?php',
      "$CFG->dbhost = '172.20.0.5';",
      "$CFG->wwwroot = 'http://172.20.0.10';",
      "define('DB_HOST', '172.20.0.5');",
      "define('WP_HOME', 'http://172.20.0.10');",
      "$db['default']['hostname'] = '172.20.0.5';",
      "$db['default']['dsn'] = 'mysql:host=172.20.0.5';",
      "$cfg['Servers'][$i]['host'] = '172.20.0.5'; $cfg['Servers'][$i]['bind'] = '172.20.0.5';",
      'function f() { return [',
      "  'hosts' => ['172.20.0.10', '172.20.0.5'],",
      "  'mysql' => ['host' => env('DB_HOST', '172.20.0.5'), 'url' => '172.20.0.10'],",
      ']; }',
      '',
    ].join('\n')
    const keys = [
      'CFG->dbhost',
      'DB_HOST',
      'default.hostname',
      'Servers.*.host',
      'hosts.1',
      'mysql.host',
    ]
    const r = await planText(phpStep, src, php({ addresses: 'names', keys }), ctx)
    expect(changedLines(src, r.after).map(([line, , after]) => [line, after])).toEqual([
      [2, "$CFG->dbhost = 'db.dept.example.edu';"],
      [4, "define('DB_HOST', 'db.dept.example.edu');"],
      [6, "$db['default']['hostname'] = 'db.dept.example.edu';"],
      [
        8,
        "$cfg['Servers'][$i]['host'] = 'db.dept.example.edu'; $cfg['Servers'][$i]['bind'] = '172.20.0.5';",
      ],
      [10, "  'hosts' => ['172.20.0.10', 'db.dept.example.edu'],"],
      [
        11,
        "  'mysql' => ['host' => env('DB_HOST', 'db.dept.example.edu'), 'url' => '172.20.0.10'],",
      ],
    ])
    expect(r.leftovers.map((l) => l.reason)).toEqual(Array(6).fill(OUTSIDE(keys.join(', '))))
  })

  it('leaves a literal with no key path of its own (the index of an assignment) outside the keys', async () => {
    const src = [
      '<?php',
      "$CONFIG = array('trusted_domains' => array(0 => '172.20.0.10'));",
      "$map['172.20.0.10'] = 'web';",
      '$peers["172.20.0.5"][] = \'db\';',
      '',
    ].join('\n')
    const r = await planText(
      phpStep,
      src,
      php({ addresses: 'new', keys: ['trusted_domains'] }),
      ctx,
    )
    expect(changedLines(src, r.after)).toEqual([
      [
        2,
        "$CONFIG = array('trusted_domains' => array(0 => '172.20.0.10'));",
        "$CONFIG = array('trusted_domains' => array(0 => '10.20.0.10'));",
      ],
    ])
    const line = (at: number) => src.slice(0, at).split('\n').length
    expect(r.leftovers.map((l) => [line(l.start), l.text, l.reason])).toEqual([
      [3, '172.20.0.10', OUTSIDE('trusted_domains')],
      [4, '172.20.0.5', OUTSIDE('trusted_domains')],
    ])
  })
})

describe('keys: in the json step', () => {
  it('limits rules to the values under the key paths, * for any one segment', async () => {
    const src = `{
  "listen": "172.20.0.10:443",
  "upstreams": ["172.20.0.10", "172.20.0.5"],
  "servers": [{ "host": "172.20.0.5", "alias": "172.20.0.5" }, { "host": "172.20.0.10" }]
}
`
    const r = await planText(
      jsonStep,
      src,
      { files: ['x'], addresses: 'new', keys: ['listen', 'upstreams.1', 'servers.*.host'] },
      ctx,
    )
    expect(r.after).toBe(`{
  "listen": "10.20.0.10:443",
  "upstreams": ["172.20.0.10", "10.20.0.5"],
  "servers": [{ "host": "10.20.0.5", "alias": "172.20.0.5" }, { "host": "10.20.0.10" }]
}
`)
    expect(r.leftovers.map((l) => [l.text, l.reason])).toEqual([
      ['172.20.0.10', OUTSIDE('listen, upstreams.1, servers.*.host')],
      ['172.20.0.5', OUTSIDE('listen, upstreams.1, servers.*.host')],
    ])
  })
})

describe('keys: in the ini step', () => {
  it('takes section.key, or a key in any section (dotted keys of php.ini too)', async () => {
    const src = [
      'host = 172.20.0.5',
      '[client]',
      'host = 172.20.0.5',
      'bind = 172.20.0.10',
      '[mysqld]',
      'bind-address = 172.20.0.10',
      '[Session]',
      'session.save_path = "tcp://172.20.0.5:6379"',
      '',
    ].join('\n')
    const keys = ['client.host', 'bind-address', 'session.save_path']
    const r = await planText(iniStep, src, { files: ['x'], addresses: 'new', keys }, ctx)
    expect(changedLines(src, r.after).map(([line]) => line)).toEqual([3, 6, 8])
    expect(r.after.split('\n')[7]).toBe('session.save_path = "tcp://10.20.0.5:6379"')
    expect(r.leftovers.map((l) => [l.text, l.reason])).toEqual([
      ['172.20.0.5', OUTSIDE(keys.join(', '))],
      ['172.20.0.10', OUTSIDE(keys.join(', '))],
    ])
  })
})

describe('keys: in the js step', () => {
  it('is not a key of it: its literals have no key path', () => {
    const spec = 'version: 1\nsteps:\n  - js: { files: [a.js], addresses: names, keys: [host] }\n'
    expect(() => parseSpec(spec, 'cutover.yaml', [jsStep])).toThrow(SpecError)
    try {
      parseSpec(spec, 'cutover.yaml', [jsStep])
    } catch (e) {
      expect((e as SpecError).diagnostics).toMatchObject([
        { code: 'SPEC_UNKNOWN_KEY', range: { start: spec.indexOf('keys') } },
      ])
    }
  })
})
