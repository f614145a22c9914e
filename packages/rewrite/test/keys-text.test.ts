import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createEngine, textStep } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

const engine = createEngine({ steps: [textStep] })

const INVENTORY = `version: 1
hosts:
  web.dept.example.edu:  { old: 172.20.0.10, new: 10.20.0.10 }
  app1.dept.example.edu: { old: 172.20.0.21, new: 10.20.0.21 }
  app2.dept.example.edu: { old: 172.20.0.22, new: 10.20.0.22 }
  lb.dept.example.edu:   { old: 172.20.0.30, new: 10.20.0.30 }
`

const SITE = `upstream app {
    server 172.20.0.21:8080;
    server 172.20.0.22:8080 backup;
}
server {
    listen 172.20.0.10:443 ssl;
\tlisten\t172.20.0.10:80;
    server_name www.dept.example.edu;
    set_real_ip_from 172.20.0.30;
    # listen 172.20.0.10:8443;
    location / { proxy_pass http://app; allow 172.20.0.21; }
}
`

async function plan(steps: string, files: Record<string, string>) {
  const root = tempDir('cutover-keys-text-')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  const spec = engine.parseSpec(`${INVENTORY}steps:\n${steps}`, 'cutover.yaml')
  const p = await engine.plan(spec, { root })
  const after = (path: string) => p.changes.find((c) => c.target === path)?.afterText
  return { ...p, after, root }
}

const NGINX_KEYS = `  - text:
      files: [etc/nginx/**]
      addresses: new
      keys: [listen, set_real_ip_from]
`

describe('text steps with keys:', () => {
  it('rewrite only after the first word of the lines it names; the rest is left and said so', async () => {
    const p = await plan(NGINX_KEYS, { 'etc/nginx/site': SITE })
    expect(p.after('etc/nginx/site')).toBe(
      SITE.replace('listen 172.20.0.10:443', 'listen 10.20.0.10:443')
        .replace('\tlisten\t172.20.0.10:80', '\tlisten\t10.20.0.10:80')
        .replace('set_real_ip_from 172.20.0.30', 'set_real_ip_from 10.20.0.30'),
    )
    const outside = "old address: outside this step's keys (listen, set_real_ip_from)"
    expect(p.leftovers.map((l) => [l.line, l.text, l.reason])).toEqual([
      [2, '172.20.0.21', outside],
      [3, '172.20.0.22', outside],
      [10, '172.20.0.10', outside],
      [11, '172.20.0.21', outside],
    ])
  })

  it('leave to a later step what is outside their keys: listen keeps an address, upstreams get names', async () => {
    const steps = `${NGINX_KEYS}  - text:
      files: [etc/nginx/**]
      addresses: names
`
    const p = await plan(steps, { 'etc/nginx/site': SITE })
    const after = p.after('etc/nginx/site')!
    expect(after.split('\n').slice(0, 11)).toEqual([
      'upstream app {',
      '    server app1.dept.example.edu:8080;',
      '    server app2.dept.example.edu:8080 backup;',
      '}',
      'server {',
      '    listen 10.20.0.10:443 ssl;',
      '\tlisten\t10.20.0.10:80;',
      '    server_name www.dept.example.edu;',
      '    set_real_ip_from 10.20.0.30;',
      '    # listen web.dept.example.edu:8443;',
      '    location / { proxy_pass http://app; allow app1.dept.example.edu; }',
    ])
    expect(p.leftovers).toEqual([])
    // planned again on its own output, the spec has nothing left to do
    const again = await plan(steps, { 'etc/nginx/site': after })
    expect(again.changes).toEqual([])
    expect(again.leftovers).toEqual([])
  })

  it('compare the first word exactly; it ends at a blank, = or :', async () => {
    const steps = `  - text:
      files: [etc/**]
      addresses: new
      keys: [mynetworks, ListenAddress, relay]
`
    const conf = [
      'mynetworks = 127.0.0.0/8 172.20.0.10',
      'mynetworks=172.20.0.21',
      'relay:172.20.0.22',
      'listenaddress 172.20.0.10',
      '  ListenAddress 172.20.0.10',
      'mynetworks_style = host 172.20.0.30',
      '#mynetworks = 172.20.0.30',
      'smtpd mynetworks 172.20.0.30',
      '',
    ].join('\n')
    const p = await plan(steps, { 'etc/main.cf': conf })
    expect(p.after('etc/main.cf')!.split('\n')).toEqual([
      'mynetworks = 127.0.0.0/8 10.20.0.10',
      'mynetworks=10.20.0.21',
      'relay:10.20.0.22',
      'listenaddress 172.20.0.10',
      '  ListenAddress 10.20.0.10',
      'mynetworks_style = host 172.20.0.30',
      '#mynetworks = 172.20.0.30',
      'smtpd mynetworks 172.20.0.30',
      '',
    ])
    expect(p.leftovers.map((l) => l.line)).toEqual([4, 6, 7, 8])
  })

  it('limit replace and swap too, and keep CRLF lines whole', async () => {
    const steps = `  - text:
      files: [etc/**]
      keys: [ServerName]
      replace: { old.dept.example.edu: new.dept.example.edu }
`
    const conf = 'ServerName old.dept.example.edu\r\nServerAlias old.dept.example.edu\r\n'
    const p = await plan(steps, { 'etc/site.conf': conf })
    expect(p.after('etc/site.conf')).toBe(
      'ServerName new.dept.example.edu\r\nServerAlias old.dept.example.edu\r\n',
    )
  })
})

describe('the leftovers of text steps with keys:', () => {
  it('are outside the keys only where a rule of the step would have rewritten them', async () => {
    const steps = `  - text:
      files: [etc/**]
      keys: [ServerName]
      replace: { old.dept.example.edu: new.dept.example.edu }
`
    const conf =
      'ServerName old.dept.example.edu\nServerAlias old.dept.example.edu\nListen 172.20.0.10:80\n'
    const p = await plan(steps, { 'etc/site.conf': conf })
    expect(p.after('etc/site.conf')).toBe(conf.replace('ServerName old', 'ServerName new'))
    // the address is left because the step has addresses: none, whatever its keys
    expect(p.leftovers.map((l) => [l.line, l.text, l.reason])).toEqual([
      [
        2,
        'old.dept.example.edu',
        "old name: renamed to new.dept.example.edu by step 1 (outside this step's keys (ServerName))",
      ],
      [3, '172.20.0.10', 'old address: this step has addresses: none'],
    ])
  })
})

describe('text steps with keys: and networks:', () => {
  it('move the old network only in the keyed lines, and name the keys for what they leave', async () => {
    const spec = `version: 1
networks:
  - { old: 172.20.0.0/24, new: 10.20.0.0/24 }
steps:
  - text:
      files: [etc/**]
      addresses: new
      keys: [mynetworks]
`
    const conf = 'mynetworks = 127.0.0.0/8 172.20.0.0/24 172.20.0.99\nrelayhost = 172.20.0.99\n'
    const root = tempDir('cutover-keys-net-')
    mkdirSync(join(root, 'etc'))
    writeFileSync(join(root, 'etc/main.cf'), conf)
    const p = await engine.plan(engine.parseSpec(spec, 'cutover.yaml'), { root })
    expect(p.changes[0]?.afterText).toBe(
      'mynetworks = 127.0.0.0/8 10.20.0.0/24 10.20.0.99\nrelayhost = 172.20.0.99\n',
    )
    expect(p.leftovers.map((l) => [l.line, l.text, l.reason])).toEqual([
      [
        2,
        '172.20.0.99',
        "old address in network 172.20.0.0/24: outside this step's keys (mynetworks)",
      ],
    ])
  })
})
