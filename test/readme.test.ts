import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../packages/cli/test/run-cli.js'
import { tempDir } from '@cutover/test-kit/temp'

// The README's example of every step kind is a working spec: planned through the CLI (in
// this process) against a small tree, every step changes its file and nothing is reported as wrong.
const repo = resolve(import.meta.dirname, '..')
const readme = readFileSync(join(repo, 'README.md'), 'utf8')

const HEADER = `version: 1
hosts:
  finance.thehumanjourney.net:    { old: 10.0.10.48, new: 10.0.10.49 }
  timesheets.thehumanjourney.net: { old: 10.0.10.23, new: 192.168.98.51 }
profiles: [test, live]
variants:
  routing-keys:
    - { test: oas.staff.test, live: oas.staff }
secrets:
  FINANCE_DB_PASSWORD: { env: FINANCE_DB_PASSWORD }
  TIMESHEETS_DB_PASSWORD: { env: TIMESHEETS_DB_PASSWORD }
`

const TREE: Record<string, string> = {
  'etc/apache2/sites-available/mentat.conf':
    '<VirtualHost *:443>\n  ServerName mentat-alt.cesnet.cz\n</VirtualHost>\n',
  'etc/hostname': 'mentat-alt\n',
  'var/www/finance/config.php':
    "<?php\ndefine('DB_PASSWORD', 'old');\n$cfg = ['db_host' => '10.0.10.48'];\n$db_host = 'localhost';\n$CFG = new stdClass();\n$CFG->dbhost = '10.0.10.48';\n",
  'srv/app/.env': 'export DB_HOST=10.0.10.48\nDB_PASSWORD="old"\n',
  'etc/mentat/mentat.json':
    '{ "server": "mentat-alt.cesnet.cz", "database": { "host": "10.0.10.48" } }\n',
  'srv/app/compose.yaml':
    'services:\n  app:\n    extra_hosts: ["finance.thehumanjourney.net:10.0.10.48"]\n    environment:\n      DB_HOST: 10.0.10.48\n      DB_NAME: old\n',
  'srv/app/config.js': "module.exports = { host: '10.0.10.48' }\n",
  'srv/app/knexfile.ts': 'export default { connection: { host: `10.0.10.48` } }\n',
  'etc/hosts':
    '127.0.0.1 localhost\n10.0.10.48 finance.thehumanjourney.net\n10.0.10.9 mail-old.thehumanjourney.net\n',
  'etc/sudoers.d/finance': '# finance\n',
  'etc/bind/db.thehumanjourney.net':
    '$ORIGIN thehumanjourney.net.\n$TTL 86400\n@ IN SOA ns1 hostmaster (2026010101 3600 900 1209600 86400)\n  IN NS ns1\nns1 IN A 10.0.10.2\nfinance IN A 10.0.10.48\n',
  'etc/bind/db.10.0.10':
    '$TTL 86400\n@ IN SOA ns1.thehumanjourney.net. hostmaster.thehumanjourney.net. (2026010101 3600 900 1209600 86400)\n  IN NS ns1.thehumanjourney.net.\n48 IN PTR finance.thehumanjourney.net.\n',
  'backup/finance-schema.sql': [
    'CREATE FUNCTION public.amqp_staff() RETURNS trigger LANGUAGE plpgsql AS $_$',
    'BEGIN',
    "  PERFORM amqp.publish(1, 'amq.topic', 'oas.staff', row_to_json(NEW)::text);",
    "  PERFORM dblink_connect('host=10.0.10.23 dbname=timesheets password=old');",
    '  RETURN NEW;',
    'END;',
    '$_$;',
    '',
  ].join('\n'),
}

describe('the README', () => {
  it('shows one working example of every step kind', async () => {
    const block = /### Step kinds[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block).toBeDefined()
    const kinds = [...block!.matchAll(/^ {2}- (\w+):/gm)].map((m) => m[1])
    expect(kinds).toEqual([
      'text',
      'php',
      'ini',
      'json',
      'yaml',
      'js',
      'hosts',
      'sudoers',
      'sql',
      'zone',
    ])
    for (const form of ["define('", "' => ", '$db_host', '$CFG->dbhost'])
      expect(block).toContain(form)

    const dir = tempDir('cutover-readme-')
    writeFileSync(join(dir, 'cutover.yaml'), HEADER + block)
    for (const [path, text] of Object.entries(TREE)) {
      mkdirSync(dirname(join(dir, 'root', path)), { recursive: true })
      writeFileSync(join(dir, 'root', path), text, {
        mode: path.startsWith('etc/sudoers') ? 0o440 : 0o644,
      })
    }
    const r = await runCli(['plan', '--root', 'root', '--profile', 'test', '--json'], {
      cwd: dir,
      env: { FINANCE_DB_PASSWORD: 'n3w-finance', TIMESHEETS_DB_PASSWORD: 'n3w-timesheets' },
    })
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.out) as {
      changes: Array<{ target: string; kind: string; edits: Array<{ rule: string }> }>
      notes: unknown[]
    }
    expect(doc.notes).toEqual([])
    expect(doc.changes.map((c) => c.target).sort()).toEqual(Object.keys(TREE).sort())
    // every php set form was found
    const php = doc.changes.find((c) => c.kind === 'php')!
    expect(php.edits.map((e) => e.rule).sort()).toEqual([
      'set.CFG->dbhost',
      'set.DB_PASSWORD',
      'set.db_host',
      'set.db_host',
    ])
    // the compose file: DB_HOST becomes the name, the extra_hosts address the new address
    const yaml = doc.changes.find((c) => c.kind === 'yaml')!
    expect(yaml.edits.map((e) => e.rule).sort()).toEqual([
      'addresses',
      'addresses',
      'set.services.app.environment.DB_NAME',
    ])
  })
})

describe("the README's step order and keys", () => {
  it('plans the nginx example as its diff shows: listen keeps an address, upstreams get names', async () => {
    const section = /### Step order and keys([\s\S]*?)\n## /.exec(readme)?.[1]
    expect(section).toBeDefined()
    const spec = /```yaml\n([\s\S]*?)```/.exec(section!)![1]!
    const diff = /```diff\n([\s\S]*?)```/.exec(section!)![1]!
    const dir = tempDir('cutover-readme-keys-')
    writeFileSync(join(dir, 'cutover.yaml'), `version: 1\n${spec}`)
    mkdirSync(join(dir, 'root/etc/nginx/sites-available'), { recursive: true })
    writeFileSync(
      join(dir, 'root/etc/nginx/sites-available/dept'),
      'upstream app {\n    server 172.20.0.21:8080;\n}\nserver {\n    listen 172.20.0.10:443 ssl;\n    set_real_ip_from 172.20.0.30;\n    server_name www.dept.example.edu;\n}\n',
    )
    const r = await runCli(['plan', '--root', 'root', '--json'], { cwd: dir })
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    const doc = JSON.parse(r.out) as {
      changes: Array<{ target: string; diff: string }>
      leftovers: unknown[]
    }
    expect(doc.leftovers).toEqual([])
    expect(doc.changes.map((c) => c.target)).toEqual(['etc/nginx/sites-available/dept'])
    const planned = doc.changes[0]!.diff.split('\n').filter((l) => /^[-+] /.test(l))
    expect(planned).toEqual(diff.split('\n').filter((l) => /^[-+] /.test(l)))
  })
})

describe("the README's spec", () => {
  it('is a valid spec: plan reads it, with its networks:, and finds no file to change', async () => {
    const spec = /## The spec[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(spec).toContain('networks:')
    const dir = tempDir('cutover-readme-spec-')
    writeFileSync(join(dir, 'cutover.yaml'), spec!)
    mkdirSync(join(dir, 'root'))
    const r = await runCli(['plan', '--root', 'root', '--profile', 'test', '--json'], {
      cwd: dir,
      env: { FINANCE_DB_PASSWORD: 'n3w' },
    })
    expect(r.err).not.toMatch(/SPEC_|invalid spec/)
    expect(r.code).toBe(0)
    expect((JSON.parse(r.out) as { changes: unknown[] }).changes).toEqual([])
  })
})

describe("the README's commands", () => {
  it('run the installed `cutover` command (the package bin, which sizes the thread pool), not bin.js', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'packages/cli/package.json'), 'utf8'))
    const installed = join('packages/cli', pkg.bin.cutover)
    const shown = [...readme.matchAll(/node (packages\/cli\/dist\/[^\s`]+)/g)].map((m) => m[1])
    expect(shown.length).toBeGreaterThan(0)
    expect(shown.filter((p) => p !== installed)).toEqual([])
  })
})
