import { describe, expect, it } from 'vitest'
import { HOSTS, NETWORKS, department, planApplyAgain, read } from './kit.js'

const COMPOSE = `# the department's web server
x-dept-hosts: &dept-hosts
  - "db-a.dept.example.edu:172.20.0.5"
  - "mail.dept.example.edu:172.20.0.12"

services:
  nextcloud:
    image: nextcloud:28-apache
    ports:
      - "127.0.0.1:8082:80"
      - 172.20.0.10:8443:443
    extra_hosts: *dept-hosts
    dns: 172.20.0.2
    environment:
      POSTGRES_HOST: 172.20.0.5   # through pgbouncer
      SMTP_HOST: '172.20.0.12'
  moodle-cron:
    extra_hosts:
      - "db-a.dept.example.edu:172.20.0.5"
    dns:
      - 172.20.0.2
    environment:
      MOODLE_DBHOST: "172.20.0.5"
  node-exporter:
    ports: ["172.20.0.10:9100:9100"]
`

const NETPLAN = `network:
  version: 2
  ethernets:
    ens18:
      addresses: [172.20.0.10/24]
      routes:
        - to: default
          via: 172.20.0.1
      nameservers:
        search: [dept.example.edu]
        addresses: [172.20.0.2, 9.9.9.9]
`

describe('acceptance: docker compose and netplan through the yaml step', () => {
  it('compose: extra_hosts keeps its name part and gets the new address, ports keep addresses, dns by key, the rest names; a second plan is empty', async () => {
    const dir = department(
      `version: 1
${HOSTS}
steps:
  - yaml:
      files: [srv/dept/compose.yaml]
      addresses: new
      keys: ["services.*.dns"]
  - yaml:
      files: [srv/dept/compose.yaml]
      addresses: names
`,
      { 'srv/dept/compose.yaml': COMPOSE },
    )
    await planApplyAgain(dir)
    expect(read(dir, 'srv/dept/compose.yaml')).toBe(
      COMPOSE.replace('"db-a.dept.example.edu:172.20.0.5"', '"db-a.dept.example.edu:10.20.0.5"')
        .replace('"mail.dept.example.edu:172.20.0.12"', '"mail.dept.example.edu:10.20.0.12"')
        .replace('- 172.20.0.10:8443:443', '- 10.20.0.10:8443:443')
        .replace('dns: 172.20.0.2', 'dns: 10.20.0.2')
        .replace('POSTGRES_HOST: 172.20.0.5', 'POSTGRES_HOST: db-a.dept.example.edu')
        .replace("SMTP_HOST: '172.20.0.12'", "SMTP_HOST: 'mail.dept.example.edu'")
        .replace('"db-a.dept.example.edu:172.20.0.5"', '"db-a.dept.example.edu:10.20.0.5"')
        .replace('- 172.20.0.2', '- 10.20.0.2')
        .replace('MOODLE_DBHOST: "172.20.0.5"', 'MOODLE_DBHOST: "db-a.dept.example.edu"')
        .replace('"172.20.0.10:9100:9100"', '"10.20.0.10:9100:9100"'),
    )
  })

  it('compose: the name part of an extra_hosts pair follows replace:, its address part addresses:', async () => {
    const dir = department(
      `version: 1
${HOSTS}
steps:
  - yaml:
      files: [srv/dept/compose.yaml]
      addresses: names
      replace: { db-a.dept.example.edu: db.dept.example.edu }
      keys: [x-dept-hosts]
`,
      { 'srv/dept/compose.yaml': COMPOSE },
    )
    await planApplyAgain(dir)
    const after = read(dir, 'srv/dept/compose.yaml')
    expect(after).toContain(
      '  - "db.dept.example.edu:10.20.0.5"\n  - "mail.dept.example.edu:10.20.0.12"\n',
    )
    // outside the keys nothing changed
    expect(after.slice(after.indexOf('services:'))).toBe(
      COMPOSE.slice(COMPOSE.indexOf('services:')),
    )
  })

  it('netplan: addresses stay addresses (a CIDR never takes a name), the gateway moves with its network; a second plan is empty', async () => {
    const dir = department(
      `version: 1
${HOSTS}${NETWORKS}
steps:
  - yaml:
      files: [etc/netplan/01-netcfg.yaml]
      addresses: new
  - yaml:
      files: [etc/netplan/02-names.yaml]
      addresses: names
`,
      { 'etc/netplan/01-netcfg.yaml': NETPLAN, 'etc/netplan/02-names.yaml': NETPLAN },
    )
    await planApplyAgain(dir)
    const moved = NETPLAN.replace('[172.20.0.10/24]', '[10.20.0.10/24]')
      .replace('via: 172.20.0.1', 'via: 10.20.0.1')
      .replace('[172.20.0.2, 9.9.9.9]', '[10.20.0.2, 9.9.9.9]')
    expect(read(dir, 'etc/netplan/01-netcfg.yaml')).toBe(moved)
    // under addresses: names the interface's own address is an address position
    expect(read(dir, 'etc/netplan/02-names.yaml')).toContain('      addresses: [10.20.0.10/24]\n')
  })
})
