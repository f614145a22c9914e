import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { runCli } from '../run-cli.js'
import { makeTree } from '../tree.js'

/** The built `cutover` command. */
export const BIN = resolve(import.meta.dirname, '../../dist/bin.js')

export const OLD = '10.0.10.48'
export const NEW = '10.0.10.49'
/** The value of the spec's secret: it must appear in no output, plan or review. */
export const SECRET = 'n3w-s3cr3t-pw'

/**
 * A spec with a secret (so the plan document has salted hashes and two plans differ) and two
 * files to change.
 */
export const SPEC = [
  'version: 1',
  'secrets:',
  '  DB_PASSWORD: { env: REVIEW_DB_PASSWORD }',
  'hosts:',
  `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
  'steps:',
  '  - text: { files: ["etc/*.conf"], addresses: new }',
  '  - php:',
  '      files: ["var/www/*/config.php"]',
  '      addresses: names',
  '      set: { DB_PASSWORD: { secret: DB_PASSWORD } }',
  '',
].join('\n')

/** A directory holding the spec and its root (`root/`), nothing planned yet. */
export function tree(): string {
  return makeTree({
    'cutover.yaml': SPEC,
    'root/etc/app.conf': `# the app\ndb = ${OLD}\n`,
    'root/var/www/app/config.php': `<?php\ndefine('DB_HOST', '${OLD}');\ndefine('DB_PASSWORD', 'old-pw');\n`,
  })
}

/** The environment the CLI runs in: the secret set, no color. */
export const ENV = { REVIEW_DB_PASSWORD: SECRET, NO_COLOR: '1' }

/** Runs the built `cutover` in `cwd` and gives its exit code and output. */
export function cli(
  cwd: string,
  args: string[],
  env: Record<string, string> = ENV,
): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/**
 * {@link cli} in this process (`run()` with its output captured; the same environment, with what
 * the product reads from `process.env` itself), for the tests that check what the command does,
 * not the process.
 */
export async function cliIn(
  cwd: string,
  args: string[],
  env: Record<string, string> = ENV,
): Promise<{ code: number; out: string; err: string }> {
  return runCli(args, { cwd, env, inherit: false })
}

/** sha256 of a file's bytes, as `cutover plan` prints a plan's hash. */
export function hashOf(file: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(file)).digest('hex')}`
}

/** The line `cutover plan --out FILE` prints for FILE, with the hash it names. */
export function savedLine(file: string, hash: string): string {
  return `Plan saved to ${file}, ${hash} (apply exactly it with: cutover apply ${file} --expect ${hash})\n`
}

/** The hash of the saved line in `out`. */
export function savedHash(out: string): string {
  const m = /^Plan saved to .*, (sha256:[0-9a-f]{64}) \(apply exactly it with/m.exec(out)
  if (!m) throw new Error(`no saved line in:\n${out}`)
  return m[1]!
}

/** The path of a file of `dir`. */
export const at = (dir: string, ...p: string[]) => join(dir, ...p)
