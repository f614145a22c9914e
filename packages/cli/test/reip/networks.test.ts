import { describe, expect, it } from 'vitest'
import { HOSTS, NETWORKS, cutover, department, planApplyAgain, read } from './kit.js'

const PG_HBA = `# TYPE  DATABASE        USER            ADDRESS                 METHOD
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
host    moodle          moodle          172.20.0.10/32          scram-sha-256
host    nextcloud       nextcloud       172.20.0.10 255.255.255.255 scram-sha-256
host    postgres        monitor         172.20.0.0/24           scram-sha-256
host    postgres        monitor         172.20.0.0 255.255.255.0 scram-sha-256
host    all             backup          172.20.0.40/32          scram-sha-256
host    all             all             192.168.7.0/24          reject
`

const MAIN_CF = `myhostname = mail.dept.example.edu
inet_interfaces = 127.0.0.1, 172.20.0.12
mynetworks = 127.0.0.0/8 172.20.0.0/24 [::1]/128
`

describe('acceptance: a network mapping (networks:)', () => {
  it('under addresses: new moves CIDRs, netmask lines and the addresses no host lists; a second plan is empty', async () => {
    const dir = department(
      `version: 1
${HOSTS}${NETWORKS}
steps:
  - text:
      files: [etc/postgresql/15/main/pg_hba.conf, etc/postfix/main.cf]
      addresses: new
`,
      { 'etc/postgresql/15/main/pg_hba.conf': PG_HBA, 'etc/postfix/main.cf': MAIN_CF },
    )
    const { plan } = await planApplyAgain(dir)
    expect(plan.out).toContain('Leftovers: none')
    expect(read(dir, 'etc/postgresql/15/main/pg_hba.conf')).toBe(
      PG_HBA.replace('172.20.0.10/32', '10.20.0.10/32')
        .replace('172.20.0.10 255.255.255.255', '10.20.0.10 255.255.255.255')
        .replace('172.20.0.0/24', '10.20.0.0/24')
        .replace('172.20.0.0 255.255.255.0', '10.20.0.0 255.255.255.0')
        // the backup server is no host of the inventory: it keeps its host part
        .replace('172.20.0.40/32', '10.20.0.40/32'),
    )
    expect(read(dir, 'etc/postfix/main.cf')).toBe(
      MAIN_CF.replace('127.0.0.1, 172.20.0.12', '127.0.0.1, 10.20.0.12').replace(
        '127.0.0.0/8 172.20.0.0/24',
        '127.0.0.0/8 10.20.0.0/24',
      ),
    )
  })

  it('under addresses: names an address position takes the new address, an unlisted address is a leftover, and verify --strict lists it', async () => {
    const SITE = `server {
    listen 172.20.0.10:443 ssl;
    location /status {
        allow 172.20.0.0/24;
        allow 172.20.0.10/32;
        deny all;
        proxy_pass http://172.20.0.21:8080;
    }
    # the printer's web page
    location /printer { proxy_pass http://172.20.0.50; }
}
`
    const dir = department(
      `version: 1
${HOSTS}${NETWORKS}
scan:
  files: ["etc/**"]
steps:
  - text:
      files: [etc/nginx/sites-available/dept.conf]
      addresses: names
`,
      {
        'etc/nginx/sites-available/dept.conf': SITE,
        // a file no step rewrites: its addresses of the old network are leftovers too
        'etc/dhcp/dhclient.conf': 'supersede domain-name-servers 172.20.0.2, 172.20.0.3;\n',
      },
    )
    const { plan } = await planApplyAgain(dir)
    expect(read(dir, 'etc/nginx/sites-available/dept.conf')).toBe(
      SITE.replace('listen 172.20.0.10:443', 'listen web.dept.example.edu:443')
        .replace('allow 172.20.0.0/24', 'allow 10.20.0.0/24')
        // a CIDR holds an address, never a name
        .replace('allow 172.20.0.10/32', 'allow 10.20.0.10/32')
        .replace('http://172.20.0.21:8080', 'http://app1.dept.example.edu:8080'),
    )
    expect(plan.out).toMatch(
      /etc\/nginx\/sites-available\/dept\.conf:10:43: 172\.20\.0\.50 — old address in network 172\.20\.0\.0\/24 with no name in hosts:/,
    )
    const verify = await cutover(
      ['verify', '--spec', 'cutover.yaml', '--root', 'root', '--strict'],
      dir,
    )
    expect(verify.code).toBe(1)
    const leftovers = verify.out.slice(verify.out.indexOf('Leftovers:'))
    expect(leftovers).toMatch(/^Leftovers: 3\n/)
    expect(leftovers).toContain('etc/nginx/sites-available/dept.conf:10:43: 172.20.0.50')
    expect(leftovers).toContain('etc/dhcp/dhclient.conf:1:31: 172.20.0.2')
    expect(leftovers).toContain('etc/dhcp/dhclient.conf:1:43: 172.20.0.3')
    expect(verify.err).toContain('3 leftover(s)')
  })

  it('a network whose new prefix differs moves its CIDR with the prefix; a host part that does not fit is an error naming the address, nothing written', async () => {
    const files = {
      'etc/postgresql/15/main/pg_hba.conf':
        'host all all 172.20.0.0/16 md5\nhost all all 172.20.3.7/32 md5\n',
    }
    const wider = department(
      `version: 1
networks:
  - { old: 172.20.0.0/16, new: 10.20.0.0/15 }
steps:
  - text: { files: [etc/postgresql/15/main/pg_hba.conf], addresses: new }
`,
      files,
    )
    await planApplyAgain(wider)
    expect(read(wider, 'etc/postgresql/15/main/pg_hba.conf')).toBe(
      'host all all 10.20.0.0/15 md5\nhost all all 10.20.3.7/32 md5\n',
    )
    const narrower = department(
      `version: 1
networks:
  - { old: 172.20.0.0/16, new: 10.20.0.0/24 }
steps:
  - text: { files: [etc/postgresql/15/main/pg_hba.conf], addresses: new }
`,
      files,
    )
    const r = await cutover(
      ['apply', '--spec', 'cutover.yaml', '--root', 'root', '--yes'],
      narrower,
    )
    expect(r.code).toBe(1)
    expect(r.err).toContain('172.20.3.7')
    expect(r.err).not.toMatch(/\n\s+at /)
    expect(read(narrower, 'etc/postgresql/15/main/pg_hba.conf')).toBe(
      files['etc/postgresql/15/main/pg_hba.conf'],
    )
  })
})
