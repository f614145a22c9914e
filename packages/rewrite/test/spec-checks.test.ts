import { describe, expect, it } from 'vitest'
import { parseSpec } from '../src/index.js'
import { errorsOf, kinds } from './spec-errors.js'

describe('checks: (goss names)', () => {
  it('reads addr and command checks with goss defaults, on and profiles', () => {
    const spec = parseSpec(
      `version: 1
profiles: [test, live]
machines: { a: { root: /srv/a }, b: { root: /srv/b } }
checks:
  - { addr: "tcp://db.example.net:5432", reachable: true, timeout: 800, on: [a] }
  - addr: tcp://[2001:db8::1]:443
    reachable: false
  - { command: "systemctl is-active apache2", profiles: [live] }
  - { command: "test -f /etc/x", exit-status: 1, timeout: 2000 }
steps: []
`,
      'cutover.yaml',
      kinds,
    )
    expect(spec.checks).toEqual([
      {
        kind: 'addr',
        addr: 'tcp://db.example.net:5432',
        host: 'db.example.net',
        port: 5432,
        reachable: true,
        timeout: 800,
        on: ['a'],
      },
      {
        kind: 'addr',
        addr: 'tcp://[2001:db8::1]:443',
        host: '2001:db8::1',
        port: 443,
        reachable: false,
        timeout: 500,
      },
      {
        kind: 'command',
        command: 'systemctl is-active apache2',
        exitStatus: 0,
        timeout: 10000,
        profiles: ['live'],
      },
      { kind: 'command', command: 'test -f /etc/x', exitStatus: 1, timeout: 2000 },
    ])
  })

  it('reports each bad check at its line:col, all at once', () => {
    expect(
      errorsOf(`version: 1
profiles: [test]
checks:
  - { addr: "udp://10.0.0.1:53" }
  - { addr: "tcp://db:70000" }
  - { addr: "db:5432", reachable: yes }
  - { command: "true", exit-status: 0, stdout: [x] }
  - { command: "true", on: [a] }
  - { command: "true", timeout: 0, profiles: [live] }
  - { port: 22 }
  - { addr: "tcp://-lp2222:22", reachable: false }
steps: []
`).map((e) => [e.code, e.line, e.col, e.message]),
    ).toEqual([
      [
        'SPEC_VALUE',
        4,
        13,
        '"udp://10.0.0.1:53": only tcp:// addresses are checked (a connection made from the machine)',
      ],
      ['SPEC_VALUE', 5, 13, 'port 70000 of "tcp://db:70000" is not 1-65535'],
      ['SPEC_VALUE', 6, 13, 'expected tcp://HOST:PORT (goss\'s addr), got "db:5432"'],
      ['SPEC_TYPE', 6, 35, 'expected true or false, got "yes"'],
      [
        'SPEC_UNKNOWN_KEY',
        7,
        40,
        'unknown key "stdout"; expected one of: command, exit-status, timeout, on, profiles',
      ],
      ['SPEC_VALUE', 8, 29, expect.stringContaining('the spec declares none')],
      ['SPEC_VALUE', 9, 33, 'a timeout is 1 to 3600000 milliseconds, got 0'],
      ['SPEC_VALUE', 9, 47, expect.stringContaining('unknown profile "live"')],
      [
        'SPEC_MISSING_KEY',
        10,
        5,
        expect.stringContaining('a check: { addr: tcp://HOST:PORT, … } or { command: TEXT, … }'),
      ],
      // a host that nc would take for its options (-l: listen, never a refused connection)
      ['SPEC_VALUE', 11, 13, 'expected tcp://HOST:PORT (goss\'s addr), got "tcp://-lp2222:22"'],
    ])
  })
})
