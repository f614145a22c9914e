import { describe, expect, it } from 'vitest'
import { HOSTS, department, planApplyAgain, read } from './kit.js'

const SITE = `upstream moodle {
    server 172.20.0.21:8080 max_fails=3;
    server 172.20.0.22:8080 backup;
}

server {
    listen 172.20.0.10:443 ssl;
    server_name moodle.dept.example.edu;
    set_real_ip_from 172.20.0.2;
    set_real_ip_from 172.20.0.12;
    real_ip_header X-Forwarded-For;

    location / {
        proxy_pass http://moodle;
        # the web server itself answers health checks: 172.20.0.10
    }
}
`

describe('acceptance: one nginx site, two meanings', () => {
  it('listen and set_real_ip_from take the new address (keys:), then the upstreams take names; a second plan is empty', async () => {
    const dir = department(
      `version: 1
${HOSTS}
steps:
  - text:
      files: [etc/nginx/sites-available/dept.conf]
      addresses: new
      keys: [listen, set_real_ip_from]
  - text:
      files: [etc/nginx/sites-available/dept.conf]
      addresses: names
`,
      { 'etc/nginx/sites-available/dept.conf': SITE },
    )
    await planApplyAgain(dir)
    expect(read(dir, 'etc/nginx/sites-available/dept.conf')).toBe(
      SITE.replace('server 172.20.0.21:8080', 'server app1.dept.example.edu:8080')
        .replace('server 172.20.0.22:8080', 'server app2.dept.example.edu:8080')
        .replace('listen 172.20.0.10:443', 'listen 10.20.0.10:443')
        .replace('set_real_ip_from 172.20.0.2;', 'set_real_ip_from 10.20.0.2;')
        .replace('set_real_ip_from 172.20.0.12;', 'set_real_ip_from 10.20.0.12;')
        .replace('health checks: 172.20.0.10', 'health checks: web.dept.example.edu'),
    )
  })

  it('with the keys alone, an old address outside them is a leftover naming the keys', async () => {
    const dir = department(
      `version: 1
${HOSTS}
steps:
  - text:
      files: [etc/nginx/sites-available/dept.conf]
      addresses: new
      keys: [listen, set_real_ip_from]
`,
      { 'etc/nginx/sites-available/dept.conf': SITE },
    )
    const { plan } = await planApplyAgain(dir)
    expect(plan.out).toContain("outside this step's keys (listen, set_real_ip_from)")
    const after = read(dir, 'etc/nginx/sites-available/dept.conf')
    expect(after).toContain('    listen 10.20.0.10:443 ssl;\n')
    expect(after).toContain('    server 172.20.0.21:8080 max_fails=3;\n')
  })
})
