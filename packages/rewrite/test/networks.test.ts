import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  createEngine,
  InputError,
  Matcher,
  rulePatterns,
  SpecError,
  textStep,
  type Context,
  type RuleOptions,
} from '../src/index.js'
import { canonicalIPv6, parseCidr } from '../src/match/network.js'
import { tempDir } from '@cutover/test-kit/temp'

const engine = createEngine({ steps: [textStep] })

/** A context of the department: two inventory hosts and the network 172.20.0.0/24. */
function dept(over: Partial<Context> = {}): Context {
  return {
    root: '/',
    profile: undefined,
    profiles: [],
    inventory: [
      { name: 'db-a.dept.example.edu', old: '172.20.0.5', new: '10.20.0.5' },
      // an inventory host's own new address wins over its network's mapping
      { name: 'web.dept.example.edu', old: '172.20.0.10', new: '10.99.0.10' },
    ],
    networks: [{ old: '172.20.0.0/24', new: '10.20.0.0/24' }],
    variants: {},
    secret: () => {
      throw new Error('no secrets here')
    },
    ...over,
  }
}

/** `text` as a matcher of `o`'s rules rewrites it (identities left as they are). */
function rewrite(text: string, o: RuleOptions, ctx: Context): string {
  let out = ''
  let at = 0
  for (const m of new Matcher(rulePatterns(o, ctx)).scan(text).matches) {
    out += text.slice(at, m.start) + m.pattern.replace
    at = m.end
  }
  return out + text.slice(at)
}

/** Writes `files` under a new root and plans `spec` there. */
async function plan(spec: string, files: Record<string, string>) {
  const root = tempDir('cutover-networks-')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, dirname(path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  const parsed = engine.parseSpec(spec, 'cutover.yaml')
  return { root, parsed, plan: await engine.plan(parsed, { root }) }
}

const SPEC_HEAD = `version: 1
hosts:
  db-a.dept.example.edu: { old: 172.20.0.5, new: 10.20.0.5 }
networks:
  - { old: 172.20.0.0/24, new: 10.20.0.0/24 }
`

describe('networks under addresses: new', () => {
  it('maps every address of the old network by its host part; hosts keep their own new address', () => {
    const text = [
      'gateway 172.20.0.1',
      'printer 172.20.0.77',
      'db 172.20.0.5',
      'web 172.20.0.10',
      'elsewhere 172.21.0.1 and 1172.20.0.3 and 172.20.0.256',
      'allow 172.20.0.0/24;',
      'route 172.20.0.0 255.255.255.0',
      'broadcast 172.20.0.255',
    ].join('\n')
    expect(rewrite(text, { addresses: 'new' }, dept())).toBe(
      [
        'gateway 10.20.0.1',
        'printer 10.20.0.77',
        'db 10.20.0.5',
        'web 10.99.0.10',
        'elsewhere 172.21.0.1 and 1172.20.0.3 and 172.20.0.256',
        'allow 10.20.0.0/24;',
        'route 10.20.0.0 255.255.255.0',
        'broadcast 10.20.0.255',
      ].join('\n'),
    )
  })

  it('moves a prefix or a netmask that is the old network’s to the new one’s, and keeps others', () => {
    const ctx = dept({ networks: [{ old: '172.20.0.0/24', new: '10.20.0.0/16' }] })
    const text = [
      'host all all 172.20.0.0/24 md5',
      'iface 172.20.0.77/24',
      'small 172.20.0.64/26',
      'route 172.20.0.0 255.255.255.0',
      'route\t172.20.0.0\t\t255.255.255.0',
      'mask 172.20.0.128 255.255.255.128',
      'db 172.20.0.5/24',
    ].join('\n')
    expect(rewrite(text, { addresses: 'new' }, ctx)).toBe(
      [
        'host all all 10.20.0.0/16 md5',
        'iface 10.20.0.77/16',
        'small 10.20.0.64/26',
        'route 10.20.0.0 255.255.0.0',
        'route\t10.20.0.0\t\t255.255.0.0',
        'mask 10.20.0.128 255.255.255.128',
        'db 10.20.0.5/16',
      ].join('\n'),
    )
  })

  it('maps the old network’s broadcast address to the new one’s when the prefixes differ', () => {
    const wider = dept({ networks: [{ old: '172.20.0.0/24', new: '10.20.0.0/16' }] })
    expect(
      rewrite(
        'broadcast 172.20.0.255\nif 172.20.0.255/24\nsub 172.20.0.255/25\n',
        { addresses: 'new' },
        wider,
      ),
    ).toBe('broadcast 10.20.255.255\nif 10.20.255.255/16\nsub 10.20.0.255/25\n')
    const narrower = dept({ networks: [{ old: '172.20.0.0/16', new: '10.20.0.0/24' }] })
    expect(rewrite('broadcast 172.20.255.255\n', { addresses: 'new' }, narrower)).toBe(
      'broadcast 10.20.0.255\n',
    )
  })

  it('leaves a network wider than the old one where it is, a leftover saying why', async () => {
    const text = 'allow 172.20.0.0/16;\nallow 172.20.0.0/8;\nroute 172.20.0.0 255.255.0.0\n'
    expect(rewrite(text, { addresses: 'new' }, dept())).toBe(text)
    const { plan: p } = await plan(
      `${SPEC_HEAD}steps:\n  - text: { files: [etc/app.conf], addresses: new }\n`,
      { 'etc/app.conf': `${text}gw 172.20.0.1\n` },
    )
    expect(p.changes[0]!.afterText).toBe(`${text}gw 10.20.0.1\n`)
    expect(p.leftovers.map((l) => [l.text, l.reason])).toEqual([
      [
        '172.20.0.0',
        'network 172.20.0.0/16 is wider than the old network 172.20.0.0/24: not moved (its other addresses do not move)',
      ],
      [
        '172.20.0.0',
        'network 172.20.0.0/8 is wider than the old network 172.20.0.0/24: not moved (its other addresses do not move)',
      ],
      [
        '172.20.0.0',
        'network 172.20.0.0/16 is wider than the old network 172.20.0.0/24: not moved (its other addresses do not move)',
      ],
    ])
  })

  it('adds one pattern per network, whose needle is the network’s leading octets', () => {
    const networks = [
      { old: '172.20.0.0/24', new: '10.20.0.0/24' },
      { old: '192.168.0.0/16', new: '10.30.0.0/16' },
      { old: '10.64.0.0/10', new: '10.128.0.0/10' },
    ]
    const m = new Matcher(rulePatterns({ addresses: 'new' }, dept({ networks })))
    // two inventory hosts, three networks: not one pattern per address
    expect(m.patterns).toHaveLength(5)
    expect(m.needles()).toEqual(['172.20.0.5', '172.20.0.10', '172.20.0.', '192.168.', '10.'])
    const text = '10.64.1.2 10.127.255.254 10.128.0.1 192.168.4.5'
    expect(rewrite(text, { addresses: 'new' }, dept({ networks }))).toBe(
      '10.128.1.2 10.191.255.254 10.128.0.1 10.30.4.5',
    )
  })

  // how fast the scan is, the bench measures (bench/README.md); no test asserts a time
  it('finds every address of a 100,000-line file of network addresses', () => {
    const lines = Array.from({ length: 100_000 }, (_, i) => `n${i} 172.20.0.${i % 256} x\n`)
    const text = lines.join('')
    const m = new Matcher(rulePatterns({ addresses: 'new' }, dept()))
    const { matches } = m.scan(text)
    expect(matches).toHaveLength(100_000)
    expect(matches[77]!.pattern.replace).toBe('10.20.0.77')
    expect(matches[99_999]!.pattern.replace).toBe(`10.20.0.${99_999 % 256}`)
  })
})

describe('networks under addresses: names', () => {
  it('gives hosts their name except in an address position, where they take the new address', () => {
    const text = 'db 172.20.0.5\nallow 172.20.0.5/32;\nnet 172.20.0.5 255.255.255.0\n'
    expect(rewrite(text, { addresses: 'names' }, dept())).toBe(
      'db db-a.dept.example.edu\nallow 10.20.0.5/32;\nnet 10.20.0.5 255.255.255.0\n',
    )
  })

  it('does not take a number in a URL path for a prefix', () => {
    const text = 'http://172.20.0.5/24/index.html x 172.20.0.5/24.\n'
    expect(rewrite(text, { addresses: 'names' }, dept())).toBe(
      'http://db-a.dept.example.edu/24/index.html x 10.20.0.5/24.\n',
    )
  })

  it('maps an unlisted address only in an address position; elsewhere it stays, a leftover', async () => {
    const { plan: p } = await plan(
      `${SPEC_HEAD}steps:\n  - text: { files: [etc/app.conf], addresses: names }\n`,
      {
        'etc/app.conf':
          'db = 172.20.0.5\nprinter = 172.20.0.77\nallow 172.20.0.0/24\nlisten 172.20.0.9/24\n',
      },
    )
    expect(p.changes[0]!.afterText).toBe(
      'db = db-a.dept.example.edu\nprinter = 172.20.0.77\nallow 10.20.0.0/24\nlisten 10.20.0.9/24\n',
    )
    expect(p.leftovers.map((l) => [l.text, l.reason])).toEqual([
      ['172.20.0.77', 'old address in network 172.20.0.0/24 with no name in hosts:'],
    ])
  })

  it('gives an IPv6 address its new address where a name cannot stand: a zone, [A]:port, a URL', () => {
    const ctx = dept({
      inventory: [
        {
          name: 'db-a.dept.example.edu',
          old: '172.20.0.5',
          new: '10.20.0.5',
          old6: '2001:db8::5',
          new6: '2001:db8:1::5',
        },
      ],
    })
    const text =
      'a [2001:db8::5]:443\nb 2001:DB8:0::5%eth0\nc http://[2001:0db8::0005]/x\nd ::ffff:172.20.0.5\ne 2001:db8::5\nf [2001:db8::5]\n'
    expect(rewrite(text, { addresses: 'names' }, ctx)).toBe(
      'a [2001:db8:1::5]:443\nb 2001:db8:1::5%eth0\nc http://[2001:db8:1::5]/x\nd ::ffff:10.20.0.5\ne db-a.dept.example.edu\nf [db-a.dept.example.edu]\n',
    )
    // without new6 the address stays, as it is spelled
    const { new6: _, ...stays } = ctx.inventory[0]!
    expect(
      rewrite(
        '[2001:DB8:0::5]:443 2001:db8::5',
        { addresses: 'names' },
        { ...ctx, inventory: [stays] },
      ),
    ).toBe('[2001:DB8:0::5]:443 db-a.dept.example.edu')
  })

  it('carries the mapped address on the pattern for positions a step knows (address)', () => {
    const m = new Matcher(rulePatterns({ addresses: 'names' }, dept()))
    const [printer, db] = m.scan('172.20.0.77 172.20.0.5').matches
    expect([printer!.pattern.replace, printer!.pattern.address]).toEqual([
      '172.20.0.77',
      '10.20.0.77',
    ])
    expect([db!.pattern.replace, db!.pattern.address]).toEqual([
      'db-a.dept.example.edu',
      '10.20.0.5',
    ])
  })
})

describe('leftovers of networks', () => {
  it('reports every old-network address left in a file no step rewrites, and none of the new', async () => {
    const { plan: p } = await plan(
      `${SPEC_HEAD}scan: { files: [etc/other.conf] }\nsteps:\n  - text: { files: [etc/app.conf], addresses: new }\n`,
      {
        'etc/app.conf': 'gw 172.20.0.1\n',
        'etc/other.conf': 'keep 10.20.0.1\nold 172.20.0.200 and 172.20.0.0/24\n',
      },
    )
    expect(p.changes[0]!.afterText).toBe('gw 10.20.0.1\n')
    expect(p.leftovers.map((l) => [l.target, l.text, l.reason])).toEqual([
      [
        'etc/other.conf',
        '172.20.0.200',
        'old address in network 172.20.0.0/24: in a file no step rewrites',
      ],
      [
        'etc/other.conf',
        '172.20.0.0',
        'old address in network 172.20.0.0/24: in a file no step rewrites',
      ],
    ])
  })

  it('a second plan of the rewritten tree is empty', async () => {
    const spec = `${SPEC_HEAD}steps:\n  - text: { files: ["etc/*.conf"], addresses: new }\n`
    const first = await plan(spec, {
      'etc/a.conf':
        'allow 172.20.0.0/24;\ngw 172.20.0.1 db 172.20.0.5\nmask 172.20.0.0 255.255.255.0\n',
    })
    const second = await plan(spec, { 'etc/a.conf': first.plan.changes[0]!.afterText! })
    expect(second.plan.changes).toEqual([])
    expect(second.plan.leftovers).toEqual([])
  })

  it('widening a network in place moves its CIDRs and leaves its addresses, which are no leftovers', async () => {
    const spec = `version: 1
networks:
  - { old: 172.20.0.0/24, new: 172.20.0.0/16 }
scan: { files: [etc/other.conf] }
steps:
  - text: { files: [etc/app.conf], addresses: new }
`
    const first = await plan(spec, {
      'etc/app.conf': 'allow 172.20.0.0/24;\ngw 172.20.0.1\n',
      'etc/other.conf': 'gw 172.20.0.1\n',
    })
    expect(first.plan.changes.map((c) => c.afterText)).toEqual([
      'allow 172.20.0.0/16;\ngw 172.20.0.1\n',
    ])
    expect(first.plan.leftovers).toEqual([])
  })

  it('reports an old host name a replace: renames, unless the name is written back', async () => {
    const { plan: p } = await plan(
      `version: 1
scan: { files: [etc/other.conf] }
steps:
  - text:
      files: [etc/app.conf]
      replace: { db-a.dept.example.edu: db.dept.example.edu, mail-old: mail-new, 10.0.0.1: 10.0.0.2, a: b, b: a }
  - text: { files: [etc/app.conf], swap: [[x-one, x-two]] }
`,
      {
        'etc/app.conf': 'db-a.dept.example.edu\n',
        'etc/other.conf':
          'db-a.dept.example.edu mail-old 10.0.0.1 a b x-one mail-old.example.org\n',
      },
    )
    expect(p.changes[0]!.afterText).toBe('db.dept.example.edu\n')
    expect(p.leftovers.map((l) => [l.text, l.reason])).toEqual([
      ['db-a.dept.example.edu', 'old name: renamed to db.dept.example.edu by step 1'],
      ['mail-old', 'old name: renamed to mail-new by step 1'],
    ])
  })
})

describe('hosts with old6 and new6', () => {
  const spec6 = `version: 1
hosts:
  db-a.dept.example.edu: { old: 172.20.0.5, new: 10.20.0.5, old6: "2001:db8:20::5", new6: "2001:db8:99::5" }
`
  it('rewrites the IPv6 address in any spelling, and reports one left', async () => {
    const { plan: p } = await plan(
      `${spec6}scan: { files: [etc/other.conf] }\nsteps:\n  - text: { files: [etc/app.conf], addresses: new }\n`,
      {
        'etc/app.conf':
          'a 2001:db8:20::5\nb [2001:0DB8:0020:0000:0000:0000:0000:0005]:443\nc 2001:db8:20::50 and 2001:db8:20::5/64\n',
        'etc/other.conf': 'left 2001:db8:20:0::5.\n',
      },
    )
    expect(p.changes[0]!.afterText).toBe(
      'a 2001:db8:99::5\nb [2001:db8:99::5]:443\nc 2001:db8:20::50 and 2001:db8:99::5/64\n',
    )
    expect(p.leftovers.map((l) => [l.text, l.reason])).toEqual([
      ['2001:db8:20:0::5', 'old address: in a file no step rewrites'],
    ])
  })

  it('gives the name under addresses: names, and the new address in a CIDR', () => {
    const ctx = dept({
      inventory: [
        {
          name: 'db-a.dept.example.edu',
          old: '172.20.0.5',
          new: '10.20.0.5',
          old6: '2001:db8:20::5',
          new6: '2001:db8:99::5',
        },
      ],
    })
    expect(rewrite('x 2001:db8:20::5 y 2001:db8:20::5/64', { addresses: 'names' }, ctx)).toBe(
      'x db-a.dept.example.edu y 2001:db8:99::5/64',
    )
  })

  it('reads every spelling of an address as one', () => {
    expect(canonicalIPv6('2001:DB8::1')).toBe('2001:0db8:0000:0000:0000:0000:0000:0001')
    expect(canonicalIPv6('::ffff:10.0.0.1')).toBe(canonicalIPv6('0:0:0:0:0:ffff:a00:1'))
    for (const bad of ['1:2:3', '1::2::3', '12345::1', '1:2:3:4:5:6:7:8:9', 'g::1'])
      expect(canonicalIPv6(bad)).toBeUndefined()
  })
})

describe('a network that does not hold the old one’s host parts', () => {
  it('is an error naming the address, in the file, when the plan would have to map it', async () => {
    const spec = `version: 1
networks:
  - { old: 172.20.0.0/16, new: 10.20.0.0/24 }
steps:
  - text: { files: [etc/app.conf], addresses: new }
`
    const root = tempDir('cutover-networks-')
    mkdirSync(join(root, 'etc'))
    writeFileSync(join(root, 'etc/app.conf'), 'ok 172.20.0.9\nbad 172.20.3.9\n')
    const error = await engine.plan(engine.parseSpec(spec, 'cutover.yaml'), { root }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(InputError)
    const d = (error as InputError).diagnostics
    expect(d.map((x) => [x.code, x.range.start])).toEqual([['NETWORK_FIT', 18]])
    expect(d[0]!.message).toContain(
      '172.20.3.9 (network 172.20.0.0/16) does not fit the new network 10.20.0.0/24',
    )
  })
})

describe('networks: in the spec', () => {
  const errorsOf = (source: string) => {
    try {
      engine.parseSpec(source, 'cutover.yaml')
    } catch (e) {
      if (e instanceof SpecError) return e.diagnostics.map((d) => [d.code, d.message])
      throw e
    }
    return []
  }

  it('is read with its networks in order', () => {
    const spec = engine.parseSpec(`${SPEC_HEAD}steps: []\n`, 'cutover.yaml')
    expect(spec.networks).toEqual([{ old: '172.20.0.0/24', new: '10.20.0.0/24' }])
  })

  it('refuses host bits, a short prefix, overlapping old networks and a bad IPv6 address', () => {
    expect(
      errorsOf(`version: 1
hosts:
  a.example: { old: 10.0.0.1, new: 10.0.0.2, old6: "2001:db8::zz" }
  b.example: { old: 10.0.0.3, new: 10.0.0.4, new6: "2001:db8::4" }
networks:
  - { old: 172.20.0.1/24, new: 10.20.0.0/24 }
  - { old: 160.0.0.0/4, new: 16.0.0.0/4 }
  - { old: 192.168.0.0/16, new: 10.1.0.0/16 }
  - { old: 192.168.4.0/24, new: 10.2.0.0/24 }
  - { old: 172.30.0.0, new: 10.30.0.0/24 }
steps: []
`),
    ).toEqual([
      ['SPEC_VALUE', 'expected an IPv6 address such as 2001:db8::10, got "2001:db8::zz"'],
      ['SPEC_VALUE', 'new6 needs old6: the IPv6 address the host had'],
      ['SPEC_VALUE', '172.20.0.1/24 has host bits set: the network is 172.20.0.0/24'],
      [
        'SPEC_VALUE',
        '160.0.0.0/4: a network of networks: needs a prefix of 8 or more (its addresses are found by their leading octets)',
      ],
      [
        'SPEC_VALUE',
        '16.0.0.0/4: a network of networks: needs a prefix of 8 or more (its addresses are found by their leading octets)',
      ],
      [
        'SPEC_VALUE',
        'old network 192.168.4.0/24 overlaps old network 192.168.0.0/16: an address would move to two places',
      ],
      [
        'SPEC_VALUE',
        'expected an IPv4 network such as 172.20.0.0/24 (host bits zero, prefix 8-32), got "172.30.0.0"',
      ],
    ])
  })

  it('refuses what a second plan would move again: a new network over an old one, a host’s new address in one', () => {
    expect(
      errorsOf(`version: 1
hosts:
  a.example: { old: 192.168.1.5, new: 172.20.0.99 }
  b.example: { old: 172.20.0.7, new: 172.20.0.8 }
  c.example: { old: 172.20.0.8, new: 10.20.0.8 }
networks:
  - { old: 172.20.0.0/24, new: 10.20.0.0/24 }
  - { old: 10.0.0.0/8, new: 192.168.0.0/16 }
  - { old: 172.30.0.0/24, new: 172.30.0.0/16 }
steps: []
`),
    ).toEqual([
      [
        'SPEC_VALUE',
        'new address 172.20.0.99 of "a.example" is in old network 172.20.0.0/24, which a second plan would move again',
      ],
      [
        'SPEC_VALUE',
        'new address 10.20.0.8 of "c.example" is in old network 10.0.0.0/8, which a second plan would move again',
      ],
      [
        'SPEC_VALUE',
        'new network 10.20.0.0/24 overlaps old network 10.0.0.0/8: a second plan would move its addresses again',
      ],
    ])
  })

  it('parses a CIDR as a network', () => {
    expect(parseCidr('172.20.0.0/24')).toEqual({ base: 172 * 2 ** 24 + 20 * 2 ** 16, len: 24 })
    expect(parseCidr('172.20.0.0/33')).toMatch(/expected a network/)
  })
})
