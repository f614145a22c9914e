import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { scanForInit, starterSpec, textStep, type StepKind } from '../src/index.js'
import { initFileKind, isMigratable } from '../src/init/init.js'
import { collapsePaths, proposeNetworks } from '../src/init/init-spec.js'
import { tempDir } from '@cutover/test-kit/temp'

function tree(files: Record<string, string>): string {
  const dir = tempDir('cutover-init-unit-')
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true })
    writeFileSync(join(dir, p), c)
  }
  return dir
}

describe('scanForInit', () => {
  it('finds addresses with the IPv4 boundaries, skipping loopback, unspecified and multicast', async () => {
    const dir = tree({
      'etc/a.conf':
        'db=10.0.10.48 peer=10.0.10.480 v=1.10.0.10.48 x=10.0.10.48.5 lo=127.0.0.1 any=0.0.0.0 mc=239.1.1.1 mask=255.255.255.0\nurl=http://10.0.10.4:80/ cidr 10.0.10.4/32\n',
    })
    const scan = await scanForInit(dir)
    expect(
      scan.addresses.map((a) => [a.address, a.places.map((p) => `${p.line}:${p.col}`)]),
    ).toEqual([
      ['10.0.10.4', ['2:12', '2:31']],
      ['10.0.10.48', ['1:4']],
    ])
  })

  it('finds host names, not file names, routing keys, e-mail domains or paths', async () => {
    const dir = tree({
      'home/u/run.sh':
        'curl https://api.example.org/x; . /etc/foo.example.com; mail admin@example.net\npsql -h db.thehumanjourney.net; publish oas.staff amq.topic; source config.php; cp a.sh b.conf\n',
    })
    const scan = await scanForInit(dir)
    expect(scan.names.map((n) => n.name)).toEqual(['api.example.org', 'db.thehumanjourney.net'])
  })
})

describe('init suggestions are data of the step kinds given', () => {
  const nginx: StepKind<any> = {
    ...textStep,
    name: 'nginx',
    init: [
      {
        group: 'nginx',
        files: ['etc/nginx/**'],
        rank: 0,
        order: 0,
        step: { why: 'nginx configs', keys: 'addresses: new' },
      },
    ],
  }

  it('groups the files a kind claims under it and suggests its step', async () => {
    const dir = tree({ 'etc/nginx/site.conf': 'upstream 10.0.10.48;\n', 'etc/a.php': '10.0.10.48' })
    const kinds = [textStep, nginx]
    expect(initFileKind('etc/nginx/site.conf', kinds)).toBe('nginx')
    const scan = await scanForInit(dir, { kinds })
    expect(scan.matched.map((f) => [f.target, f.kind])).toEqual([
      ['etc/a.php', 'text'],
      ['etc/nginx/site.conf', 'nginx'],
    ])
    expect(starterSpec(scan, { kinds })).toContain(
      '  # nginx configs\n  - nginx:\n      files: ["etc/nginx/site.conf"]\n      addresses: new\n',
    )
  })

  it('without other kinds, a PHP file is text and a hosts file names nothing', async () => {
    const dir = tree({ 'etc/hosts': '10.0.10.48 finance.example.org\n', 'etc/a.php': '10.0.10.48' })
    const scan = await scanForInit(dir)
    expect(scan.matched.map((f) => f.kind)).toEqual(['text', 'text'])
    expect(scan.addresses[0]!.hostsName).toBeUndefined()
  })
})

describe('the starter spec', () => {
  it('collapses paths to globs only where no other file would be caught', () => {
    expect(
      collapsePaths(
        [
          'var/www/a/config.php',
          'var/www/b/config.php',
          'home/f/x.sh',
          'home/f/y.sh',
          'etc/cron.d/f',
        ],
        [],
      ),
    ).toEqual(['etc/cron.d/f', 'home/f/*.sh', 'var/www/*/config.php'])
    expect(collapsePaths(['home/f/x.sh', 'home/f/y.sh'], ['home/f/z.sh'])).toEqual([
      'home/f/x.sh',
      'home/f/y.sh',
    ])
    expect(collapsePaths(['etc/[odd].conf'], [])).toEqual(['etc/\\[odd\\].conf'])
  })

  it('is valid YAML with placeholders that name each address', async () => {
    const dir = tree({ 'etc/app.conf': 'db=10.0.10.48\n' })
    const text = starterSpec(await scanForInit(dir), { rootHint: '/srv/root' })
    expect(text).toContain(
      '  "<name of 10.0.10.48>": { old: 10.0.10.48, new: 10.0.10.48 }   # fill in the name\n',
    )
    expect(text).toContain('  - text:\n      files: ["etc/app.conf"]\n      addresses: names\n')
    expect(text).toContain('#   cutover plan --spec cutover.yaml --root /srv/root\n')
    expect(isMigratable('10.0.10.48') && !isMigratable('127.0.1.1')).toBe(true)
  })
})

describe('networks in the starter spec', () => {
  it('finds the networks written as a CIDR or an address and netmask, host bits zero', async () => {
    const dir = tree({
      'etc/pg_hba.conf':
        'host all all 172.20.0.0/24 md5\nhost all all 172.20.0.0 255.255.255.0 md5\nhost all all 172.20.0.10/32 md5\nhost a a 10.1.0.0 255.255.0.0 md5\n',
      'etc/netplan.yaml':
        'addresses: [172.20.0.10/24]\nbad: 172.20.0.0 255.0.255.0 lo: 127.0.0.0/8 all: 0.0.0.0/0\n',
    })
    const scan = await scanForInit(dir, { files: ['etc/**'] })
    expect(
      scan.networks?.map((n) => [n.network, n.places.map((p) => `${p.target}:${p.line}:${p.col}`)]),
    ).toEqual([
      ['10.1.0.0/16', ['etc/pg_hba.conf:4:10']],
      ['172.20.0.0/24', ['etc/pg_hba.conf:1:14', 'etc/pg_hba.conf:2:14']],
    ])
  })

  it('proposes a written network that holds an address found, and a /24 holding three or more', async () => {
    const dir = tree({
      // three addresses in 10.20.30.0/24, written nowhere as a network
      'etc/a.conf': 'a=10.20.30.4 b=10.20.30.5 c=10.20.30.6\n',
      // two in 10.9.9.0/24: not proposed; 192.168.0.0/16 written but holds nothing found
      'etc/b.conf': 'd=10.9.9.1 e=10.9.9.2 allow 192.168.0.0/16\n',
      // written, one address inside, and a wider network around it
      'etc/c.conf': 'mynetworks = 172.20.0.0/24 172.16.0.0/12\nrelay=172.20.0.12\n',
    })
    const scan = await scanForInit(dir, { files: ['etc/**'] })
    const proposed = proposeNetworks(scan)
    expect(proposed.map((p) => [p.network, p.addresses, p.written.length])).toEqual([
      ['10.20.30.0/24', ['10.20.30.4', '10.20.30.5', '10.20.30.6'], 0],
      ['172.20.0.0/24', ['172.20.0.12'], 1],
    ])
    const text = starterSpec(scan)
    expect(text).toContain(
      '  # 172.20.0.0/24: 1 address found in it (172.20.0.12)\n  #   written at etc/c.conf:1:14\n  - { old: 172.20.0.0/24, new: 172.20.0.0/24 }   # fill in the new network\n',
    )
    expect(text).toContain('  - { old: 10.20.30.0/24, new: 10.20.30.0/24 }')
    // a network's own address is no machine of the inventory
    expect(text).not.toContain('<name of 172.20.0.0>')
    // nor is the base of a network written only as such, proposed or not
    expect(text).not.toContain('<name of 172.16.0.0>')
    expect(text).not.toContain('<name of 192.168.0.0>')
  })

  it('proposes no whole private range (postfix mynetworks), and keeps an address written also alone', async () => {
    const dir = tree({
      'etc/main.cf':
        'mynetworks = 127.0.0.0/8 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16\nrelayhost = 10.1.2.3\n',
      // 10.4.0.0 is a network's base here and a machine's address there
      'etc/app.conf': 'allow 10.4.0.0/16\nhost=10.4.0.0\n',
    })
    const scan = await scanForInit(dir, { files: ['etc/**'] })
    expect(proposeNetworks(scan).map((p) => p.network)).toEqual([])
    const text = starterSpec(scan)
    expect(text).not.toContain('networks:')
    expect(text).not.toMatch(/<name of (10\.0|172\.16|192\.168)\.0\.0>/)
    expect(text).toContain('<name of 10.1.2.3>')
    expect(text).toContain('<name of 10.4.0.0>')
  })

  it('proposes none when the addresses are scattered', async () => {
    const dir = tree({ 'etc/a.conf': 'a=10.20.30.4 b=10.20.31.5 c=10.20.32.6\n' })
    const scan = await scanForInit(dir, { files: ['etc/**'] })
    expect(proposeNetworks(scan)).toEqual([])
    expect(starterSpec(scan)).not.toContain('networks:')
  })
})
