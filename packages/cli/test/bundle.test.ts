import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { join, resolve } from 'node:path'
import { runInThisContext } from 'node:vm'
import { afterAll, describe, expect, it } from 'vitest'
import { makeTree } from './tree.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * The `cutover` bin (dist/cutover.cjs) runs the bundle that scripts/bundle.mjs makes of dist/bin.js
 * and what it imports: a few files to load instead of hundreds. It must answer exactly as the
 * unbundled dist/bin.js does, load the parts a command does not use only when it uses them, and
 * its source maps must lead an error's stack back to the TypeScript sources.
 */

const dist = resolve(import.meta.dirname, '../dist')
const bundle = join(dist, 'bundle')
const launcher = join(dist, 'cutover.cjs')
const unbundled = join(dist, 'bin.js')
const tmp = tempDir('cutover-bundle-')
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

// a file for most step kinds: php, ini, json and yaml are chunks of their own; the js step
// loads ts-morph and the sql step PostgreSQL's lexer, both outside the bundle (slow to load: only
// the apply and the count of modules run them)
const LIGHT = `version: 1
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - json: { files: [etc/app.json], addresses: names }
  - php: { files: [var/www/config.php], addresses: names }
  - text: { files: [etc/motd], addresses: names }
  - ini: { files: [etc/app.ini], addresses: names }
  - yaml: { files: [etc/app.yaml], addresses: names }
  - hosts: { files: [etc/hosts], ensure: new }
`
const SPEC = `${LIGHT}  - js: { files: [var/www/config.js], addresses: names }
  - sql: { files: [backup/dump.sql], functions: ["public.*"], addresses: names }
  - zone: { files: [etc/bind/db.example.org], origin: example.org., records: new }
  - sudoers: { files: [etc/sudoers.d/app], rules: ["www-data ALL=(root) NOPASSWD: APPCMD"] }
`
const LIGHT_FILES = {
  'etc/app.json': '{ "db": "10.0.10.48", "port": 5432 }\n',
  'var/www/config.php': "<?php $db = '10.0.10.48';\n",
  'etc/motd': 'the database is 10.0.10.48\n',
  'etc/app.ini': '[db]\nhost = 10.0.10.48\n',
  'etc/app.yaml': 'db:\n  host: 10.0.10.48\n',
  'etc/hosts': '127.0.0.1 localhost\n10.0.10.48 db.example.org\n',
}
const FILES = {
  ...LIGHT_FILES,
  'var/www/config.js': "module.exports = { db: '10.0.10.48' }\n",
  'backup/dump.sql':
    "CREATE FUNCTION public.dsn() RETURNS text LANGUAGE sql AS $$ SELECT 'host=10.0.10.48' $$;\n",
  'etc/bind/db.example.org':
    '$TTL 3600\n@ IN SOA ns1.example.org. admin.example.org. ( 2024010101 3600 600 86400 300 )\n' +
    '@ IN NS ns1.example.org.\nns1 IN A 10.0.10.1\ndb IN A 10.0.10.48\n',
  'etc/sudoers.d/app': 'Cmnd_Alias APPCMD = /usr/local/bin/app-restart\n',
}

/**
 * Records what the launcher loads: the chunks it reads, and the packages the chunks require from
 * node_modules (not what those packages load in turn): a module preloaded with --require, which
 * prints them on exit.
 */
const recorder = join(tmp, 'record-loads.cjs')
writeFileSync(
  recorder,
  [
    "const fs = require('node:fs')",
    "const Module = require('node:module')",
    'const chunk = /\\/bundle\\/[^/]+\\.cjs$/',
    'const seen = []',
    'const read = fs.readFileSync',
    'fs.readFileSync = function (file, ...rest) {',
    "  if (typeof file === 'string' && chunk.test(file)) seen.push(file)",
    '  return read.call(this, file, ...rest)',
    '}',
    'const load = Module._load',
    'Module._load = function (request, parent, ...rest) {',
    "  if (chunk.test(parent?.filename ?? '') && !request.startsWith('./') && !Module.isBuiltin(request))",
    '    seen.push(request)',
    '  return load.call(this, request, parent, ...rest)',
    '}',
    "process.on('exit', () => process.stderr.write(`LOADED ${JSON.stringify(seen)}\\n`))",
    '',
  ].join('\n'),
)

/**
 * Runs `entry` with `args` in `cwd`: its exit code, output and, with `modules`, what it loaded
 * (the launcher's chunks and packages, from the recorder above; the unbundled ES modules, from
 * the loader's debug lines, which are many and slow).
 */
function cli(entry: string, args: string[], cwd: string, modules = false) {
  const esm = entry === unbundled
  const r = spawnSync(
    process.execPath,
    [...(modules && !esm ? ['--require', recorder] : []), entry, ...args],
    {
      cwd,
      encoding: 'utf8',
      maxBuffer: 256 << 20,
      env: { ...process.env, NO_COLOR: '1', ...(modules && esm ? { NODE_DEBUG: 'esm' } : {}) },
    },
  )
  const lines = r.stderr.split('\n')
  const debug = (l: string) =>
    /^ESM \d+: /.test(l) || /^\s/.test(l) || l === '}' || l.startsWith('LOADED ')
  const loaded = lines.flatMap((l) =>
    esm
      ? (/^ESM \d+: Storing file:\/\/(\S+)/.exec(l)?.[1] ?? [])
      : l.startsWith('LOADED ')
        ? (JSON.parse(l.slice(7)) as string[])
        : [],
  )
  return {
    status: r.status,
    stdout: r.stdout.replaceAll(cwd, 'DIR'),
    // the loader's debug lines only: without them, every line of the output is compared
    stderr: lines
      .filter((l) => !modules || !debug(l))
      .join('\n')
      .replaceAll(cwd, 'DIR'),
    loaded: [...new Set(loaded)],
  }
}

describe('the bundled cutover command', () => {
  const light = makeTree({
    'cutover.yaml': LIGHT,
    'bad.yaml': LIGHT.replace('ensure: new }', 'ensure: new, bogus: 1 }'),
    ...LIGHT_FILES,
  })
  const root = makeTree({ 'cutover.yaml': SPEC, ...FILES })

  it('answers exactly as the unbundled one: help, version, schema, plan, init, verify, show, html review, apply, state, rollback', () => {
    const cases: string[][] = [
      ['--help'],
      ['--version'],
      ['schema'],
      ['plan', '--root', '.'],
      ['init', '--root', '.', '--print'],
      ['nonsense'],
      ['plan', '--spec', 'missing.yaml', '--root', '.'],
      // a spec error: path:line:col, the line and its caret (indented), no stack
      ['plan', '--spec', 'bad.yaml', '--root', '.'],
      // changes are pending: the plan and exit code 1
      ['verify', '--root', '.'],
    ]
    for (const args of cases) {
      expect(cli(launcher, args, light), args.join(' ')).toEqual(cli(unbundled, args, light))
    }
    const bad = cli(launcher, ['plan', '--spec', 'bad.yaml', '--root', '.'], light)
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/^bad\.yaml:10:\d+: SPEC_UNKNOWN_KEY /m)
    expect(bad.stderr).toMatch(/^ +\^+$/m)
    expect(bad.stderr).not.toMatch(/\n\s+at /)
    // the HTML page (diff2html and its stylesheet, found from the review package)
    for (const [entry, out] of [
      [launcher, 'a.html'],
      [unbundled, 'b.html'],
    ] as const)
      expect(
        cli(entry, ['plan', '--root', '.', '--format', 'html', '--out', join(tmp, out)], light)
          .status,
      ).toBe(2 - 2)
    expect(readFileSync(join(tmp, 'a.html'), 'utf8')).toBe(
      readFileSync(join(tmp, 'b.html'), 'utf8'),
    )
    expect(readFileSync(join(tmp, 'a.html'), 'utf8')).toContain('d2h-file-header')

    // a saved plan rendered by show
    const saved = join(light, 'saved.json')
    expect(cli(unbundled, ['plan', '--root', '.', '--out', saved], light).status).toBe(0)
    for (const args of [['show', saved, '--format', 'markdown']])
      expect(cli(launcher, args, light), args.join(' ')).toEqual(cli(unbundled, args, light))

    // apply on two copies: the same files after, the same answer; then state and rollback (back
    // to the files before) answer alike
    const read = (dir: string) =>
      Object.fromEntries(Object.keys(FILES).map((f) => [f, readFileSync(join(dir, f), 'utf8')]))
    const after: Record<string, string>[] = []
    const answers: Array<Array<{ status: number | null; stdout: string; stderr: string }>> = []
    const tx = /\d{8}-\d{9}-[0-9a-f]{8}/g
    const when = /\d{4}-\d\d-\d\dT[\d:.]+Z/g
    for (const entry of [launcher, unbundled]) {
      const copy = mkdtempSync(join(tmp, 'apply-'))
      cpSync(root, copy, { recursive: true })
      const r = cli(entry, ['apply', '--root', '.', '--yes', '--quiet', '--state-dir', 'st'], copy)
      expect(r.status, r.stderr).toBe(0)
      after.push(read(copy))
      const more = [
        ['state', '--state-dir', 'st'],
        ['rollback', '--root', '.', '--yes', '--state-dir', 'st'],
      ].map((args) => {
        const { status, stdout, stderr } = cli(entry, args, copy)
        return {
          status,
          stdout: stdout.replace(tx, 'TX').replace(when, 'WHEN'),
          stderr: stderr.replace(tx, 'TX'),
        }
      })
      answers.push(more)
      expect(more[0]!.stdout).toContain('committed')
      expect(more[1]!.status, more[1]!.stderr).toBe(0)
      expect(read(copy)).toEqual(read(root))
    }
    expect(answers[0]).toEqual(answers[1])
    expect(after[0]).toEqual(after[1])
    expect(after[0]!['etc/bind/db.example.org']).toContain('db IN A 10.0.10.49')
    expect(after[0]!['etc/sudoers.d/app']).toContain('www-data ALL=(root) NOPASSWD: APPCMD')
    expect(after[0]!['etc/motd']).toBe('the database is db.example.org\n')
    expect(after[0]!['var/www/config.js']).toContain('db.example.org')
    expect(after[0]!['backup/dump.sql']).toContain('host=db.example.org')
  })

  it('loads a few files of the bundle, and a step kind only when the spec names it', () => {
    const help = cli(launcher, ['--help'], root, true)
    expect(help.status).toBe(0)
    expect(help.loaded[0]).toBe(`${bundle}/cutover.cjs`)
    expect(help.loaded.every((u) => u.startsWith(`${bundle}/`))).toBe(true)
    expect(help.loaded.length).toBeLessThanOrEqual(4)

    const plan = cli(launcher, ['plan', '--root', '.'], root, true)
    expect(plan.status).toBe(0)
    const outside = plan.loaded.filter((u) => !u.startsWith(`${bundle}/`))
    // only what stays outside the bundle: ts-morph (js) and PostgreSQL's lexer (sql) if used
    expect(outside.filter((u) => u !== 'ts-morph' && u !== 'libpg-query')).toEqual([])
    expect(outside).toContain('ts-morph')
    expect(plan.loaded.length).toBeLessThan(40)
    // the unbundled command loads each module of every package it uses
    expect(cli(unbundled, ['plan', '--root', '.'], root, true).loaded.length).toBeGreaterThan(100)

    const textOnly = makeTree({
      'cutover.yaml': 'version: 1\nsteps:\n  - text: { files: [motd], replace: { a: b } }\n',
      motd: 'a\n',
    })
    const text = cli(launcher, ['plan', '--root', '.'], textOnly, true)
    expect(text.status, text.stderr).toBe(0)
    const names = text.loaded.map((u) => u.slice(u.lastIndexOf('/') + 1))
    for (const kind of ['php-', 'ini-', 'json-', 'yaml-', 'js-', 'diff2html-'])
      expect(
        names.filter((n) => n.startsWith(kind)),
        kind,
      ).toEqual([])
    // nor the fleet's code (a spec of machines only)
    const fleetCode = (u: string) =>
      u.startsWith(`${bundle}/`) && readFileSync(u, 'utf8').includes('function planWhole(')
    expect(text.loaded.filter(fleetCode)).toEqual([])
    expect(plan.loaded.filter(fleetCode)).toEqual([])
  })

  it('runs every chunk in strict mode, as the ES modules it was made from ran', () => {
    // each chunk as the launcher and Node's require() compile it, inside the CommonJS wrapper; a
    // strict function's `caller` may not be read (a "use strict" after the banner would not count)
    const sloppy = readdirSync(bundle)
      .filter((f) => f.endsWith('.cjs'))
      .filter((f) => {
        const body = runInThisContext(
          `(function (exports, require, module, __filename, __dirname) { ${readFileSync(join(bundle, f), 'utf8')}\n});`,
        ) as () => void
        try {
          return body.caller === null
        } catch {
          return false
        }
      })
    expect(readdirSync(bundle).filter((f) => f.endsWith('.cjs')).length).toBeGreaterThan(10)
    expect(sloppy).toEqual([])
  })

  it('maps a position of the bundle back to the TypeScript source it came from', () => {
    const file = join(bundle, 'cutover.cjs')
    const text = readFileSync(file, 'utf8')
    const map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')))
    const at = text.indexOf('async function run(')
    expect(at).toBeGreaterThan(0)
    const line = text.slice(0, at).split('\n').length - 1
    const col = at - (text.lastIndexOf('\n', at - 1) + 1)
    const entry = map.findEntry(line, col) as { originalSource?: string; originalLine?: number }
    const source = readFileSync(resolve(import.meta.dirname, '../src/run.ts'), 'utf8')
    expect(entry.originalSource).toMatch(/\/src\/run\.ts$/)
    expect(source.split('\n')[entry.originalLine!]).toContain('export async function run(')
    // at run time: the stack CUTOVER_DEBUG=1 prints for an internal error (a fault injected in
    // the reading of a file by a preloaded module) names the TypeScript sources, not the chunks
    const fault = join(tmp, 'fault.mjs')
    writeFileSync(
      fault,
      [
        "import fs from 'node:fs'",
        "import { syncBuiltinESMExports } from 'node:module'",
        'const open = fs.openSync',
        'fs.openSync = function (path, ...rest) {',
        "  if (String(path).endsWith('/etc/motd')) throw new TypeError('injected fault')",
        '  return open.call(this, path, ...rest)',
        '}',
        'syncBuiltinESMExports()',
        '',
      ].join('\n'),
    )
    const crash = (env: Record<string, string>) =>
      spawnSync(process.execPath, ['--import', fault, launcher, 'plan', '--root', '.'], {
        cwd: light,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1', ...env },
      })
    const debug = crash({ CUTOVER_DEBUG: '1' })
    expect(debug.stderr).toContain('cutover: internal error: injected fault')
    expect(debug.stderr).toMatch(/\n\s+at .*\/rewrite\/src\/plan\/reader\.ts:\d+:\d+/)
    expect(debug.stderr).not.toMatch(/\/bundle\/[^/\s]+\.cjs:\d+/)
    // without it, one line and no stack
    const plain = crash({})
    expect(plain.stderr.trim()).toBe(
      'cutover: internal error: injected fault (set CUTOVER_DEBUG=1 for details)',
    )
    expect(plain.status).toBe(debug.status)

    // every output file has its map
    for (const f of readdirSync(bundle).filter((n) => n.endsWith('.cjs')))
      expect(readdirSync(bundle), f).toContain(`${f}.map`)
  })
})
