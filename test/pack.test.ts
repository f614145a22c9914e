import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import ts from 'typescript'
import { afterAll, describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

// Packs every package as it would be published, installs the tarballs with npm into a project
// outside the workspace, type-checks a consumer against their declarations and runs it.
const repo = resolve(import.meta.dirname, '..')
const packages = [
  'rewrite',
  'formats',
  'hosts',
  'sudoers',
  'sqlfn',
  'zone',
  'fleet',
  'review',
  'cli',
]
const tsc = join(repo, 'node_modules/typescript/bin/tsc')
const dir = tempDir('cutover-pack-')
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Runs a command; a failure carries its stdout too (tsc reports there). */
function sh(cmd: string, args: string[], cwd: string): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string }
    throw new Error(
      `${cmd} ${args.join(' ')} failed in ${cwd}:\n${err.stdout ?? ''}${err.stderr ?? ''}`,
      { cause: e },
    )
  }
}

const CONSUMER = `import { applyEdits, createEngine, textStep, type Edit } from '@cutover/rewrite'
import { iniStep } from '@cutover/formats'
import { phpStep } from '@cutover/formats/php'
import { parseYaml } from '@cutover/formats/yaml'
import { ensureHost, parseHosts } from '@cutover/hosts'
import { checkSudoers, ensureRule, parseSudoers } from '@cutover/sudoers'
import { splitSql } from '@cutover/sqlfn'
import { parseZone, recordType } from '@cutover/zone'
import { memoryIo, run, stepKinds } from '@cutover/cli'
import { localExec, type Exec } from '@cutover/fleet'
import { reviewOf, toHtml, toMarkdown } from '@cutover/review'

const hosts = '127.0.0.1\\tlocalhost\\n10.0.10.48\\tfinance.example.org\\n'
const doc = parseHosts(hosts)
const moved: string = applyEdits(hosts, ensureHost(doc, 'finance.example.org', '10.0.10.49'))

const edit: Edit = { start: 0, end: 5, text: 'HELLO', rule: 'demo' }
const greeting = applyEdits('hello world', [edit])

const sudoers = 'Cmnd_Alias BACKUP = /usr/local/bin/backup.sh\\n'
const withRule = applyEdits(sudoers, ensureRule(parseSudoers(sudoers), 'backup ALL=(root) NOPASSWD: BACKUP'))
const problems = checkSudoers(parseSudoers(withRule)).map((d) => d.code)

const sql = "SELECT 1; SELECT 'a;b';\\n"
const pieces = splitSql(sql).pieces.filter((p) => p.kind === 'sql').map((p) => sql.slice(p.codeStart, p.end))

const zone = parseZone('$TTL 1h\\nwww IN A 192.0.2.1\\n', { origin: 'example.org' })
const records = zone.entries.flatMap((e) => (recordType(zone, e) ? [e.name + ' ' + recordType(zone, e)] : []))

const styles = parseYaml('a: [b, "c"]\\n').scalars.map((s) => s.style)

const engine = createEngine({ steps: [textStep] })
const spec = engine.parseSpec('version: 1\\nsteps:\\n  - text: { files: [x], replace: { a: b } }\\n', 'inline.yaml')

const io = memoryIo()
const code = await run(['--version'], io)
const exec: Exec = localExec
const shell = (await exec('tr a-z A-Z', { stdin: Buffer.from('fleet') })).stdout.toString()
const review = reviewOf(
  { version: 1, profile: 'test', root: '/srv', spec: 'sha256:0', changes: [], database: [], leftovers: [], notes: [], secrets: [] },
  { hash: 'sha256:' + '0'.repeat(64) },
)
const markdown = toMarkdown(review).split('\\n')[0]
const page = (await toHtml(review)).slice(0, 15).toLowerCase()
console.log(JSON.stringify({ moved, greeting, withRule, problems, pieces, records, styles, kinds: stepKinds.map((k) => k.name), formats: [phpStep.name, iniStep.name], steps: spec.steps.length, code, version: io.out().trim(), shell, markdown, page }))
`

describe('the packages as published', () => {
  it(
    'pack, install from the tarballs outside the workspace, type-check and run a consumer',
    { timeout: 300_000 },
    () => {
      for (const p of packages)
        sh('pnpm', ['pack', '--pack-destination', dir], join(repo, 'packages', p))
      const tarballs = readdirSync(dir)
        .filter((f) => f.endsWith('.tgz'))
        .sort()
      expect(tarballs).toEqual([
        'cutover-cli-0.0.0.tgz',
        'cutover-fleet-0.0.0.tgz',
        'cutover-formats-0.0.0.tgz',
        'cutover-hosts-0.0.0.tgz',
        'cutover-review-0.0.0.tgz',
        'cutover-rewrite-0.0.0.tgz',
        'cutover-sqlfn-0.0.0.tgz',
        'cutover-sudoers-0.0.0.tgz',
        'cutover-zone-0.0.0.tgz',
      ])

      const deps = Object.fromEntries(
        packages.map((p) => [`@cutover/${p}`, `file:./cutover-${p}-0.0.0.tgz`]),
      )
      const rootPkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
        devDependencies: Record<string, string>
      }
      writeFileSync(
        join(dir, 'package.json'),
        JSON.stringify(
          {
            name: 'consumer',
            private: true,
            type: 'module',
            dependencies: deps,
            devDependencies: { '@types/node': rootPkg.devDependencies['@types/node'] },
          },
          null,
          2,
        ),
      )
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            module: 'nodenext',
            moduleResolution: 'nodenext',
            strict: true,
            noUncheckedIndexedAccess: true,
            verbatimModuleSyntax: true,
            skipLibCheck: false,
            noEmit: true,
            types: ['node'],
          },
          files: ['consumer.ts'],
        }),
      )
      writeFileSync(join(dir, 'consumer.ts'), CONSUMER)
      sh(
        'npm',
        ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'],
        dir,
      )

      // the workspace's packages were rewritten from workspace:^ to versions, and installed from the tarballs
      const cliPkg = JSON.parse(
        readFileSync(join(dir, 'node_modules/@cutover/cli/package.json'), 'utf8'),
      ) as { dependencies: Record<string, string>; files: string[] }
      expect(cliPkg.dependencies['@cutover/rewrite']).toBe('^0.0.0')
      expect(readdirSync(join(dir, 'node_modules/@cutover/cli/schema'))).toEqual([
        'cutover.schema.json',
      ])
      for (const p of packages) {
        expect(readdirSync(join(dir, 'node_modules/@cutover', p)).sort(), p).toEqual(
          p === 'cli'
            ? ['README.md', 'dist', 'package.json', 'schema']
            : ['README.md', 'dist', 'package.json'],
        )
      }

      sh(process.execPath, [tsc, '-p', '.'], dir)
      writeFileSync(
        join(dir, 'consumer.mjs'),
        ts.transpileModule(CONSUMER, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        }).outputText,
      )
      const out = JSON.parse(sh(process.execPath, ['consumer.mjs'], dir)) as Record<string, unknown>
      expect(out).toEqual({
        moved: '127.0.0.1\tlocalhost\n10.0.10.49\tfinance.example.org\n',
        greeting: 'HELLO world',
        withRule:
          'Cmnd_Alias BACKUP = /usr/local/bin/backup.sh\nbackup ALL=(root) NOPASSWD: BACKUP\n',
        problems: [],
        pieces: ['SELECT 1;', "SELECT 'a;b';"],
        records: ['www.example.org. A'],
        styles: ['plain', 'plain', 'double'],
        kinds: ['text', 'php', 'ini', 'json', 'yaml', 'js', 'hosts', 'sudoers', 'sql', 'zone'],
        formats: ['php', 'ini'],
        steps: 1,
        code: 0,
        version: '0.0.0',
        shell: 'FLEET',
        markdown: '# Cutover plan for profile test',
        page: '<!doctype html>',
      })
      expect(sh(join(dir, 'node_modules/.bin/cutover'), ['--help'], dir)).toContain(
        'Usage: cutover',
      )
    },
  )

  it(
    'installing @cutover/hosts brings no format parser (php-parser, ts-morph, jsonc-parser)',
    { timeout: 300_000 },
    () => {
      const here = mkdtempSync(join(dir, 'hosts-only-'))
      for (const p of ['rewrite', 'hosts'])
        sh('pnpm', ['pack', '--pack-destination', here], join(repo, 'packages', p))
      writeFileSync(
        join(here, 'package.json'),
        JSON.stringify({
          name: 'hosts-only',
          private: true,
          dependencies: {
            '@cutover/hosts': 'file:./cutover-hosts-0.0.0.tgz',
            '@cutover/rewrite': 'file:./cutover-rewrite-0.0.0.tgz',
          },
        }),
      )
      sh(
        'npm',
        ['install', '--no-audit', '--no-fund', '--no-package-lock', '--loglevel=error'],
        here,
      )
      const installed = readdirSync(join(here, 'node_modules'))
      expect(installed).toContain('@cutover')
      expect(
        installed.filter((n) => ['php-parser', 'ts-morph', 'jsonc-parser'].includes(n)),
      ).toEqual([])
    },
  )
})
