import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
// the CLI drives the built @cutover/rewrite (run `npx tsc -b packages/cli` first)
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { need } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

const OLD_PASSWORD = 'old-s3cret-pw'
const SECRET = "n3w'pa\\ss"
const ENCODED = "n3w\\'pa\\\\ss"

const SPEC = `version: 1
hosts:
  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }
profiles: [test, live]
secrets:
  FINANCE_DB_PASSWORD: { env: FINANCE_DB_PASSWORD }
steps:
  - php:
      files: ["var/www/*/config.php"]
      addresses: names
      set: { DB_PASSWORD: { secret: FINANCE_DB_PASSWORD } }
`

const CONFIG = `<?php
// the finance database was 10.0.10.48 before the move
define('DB_HOST', '10.0.10.48');
define('DB_PASSWORD', '${OLD_PASSWORD}');
$databases = array(
    'finance' => array('dsn' => 'pgsql:host=10.0.10.48;port=5432;dbname=finance'),
    'hr'      => array('dsn' => "pgsql:host=10.0.10.48;dbname=hr;user=$user"),
);
$conninfo = <<<EOT
host=10.0.10.48 dbname=finance user=$user
EOT;
$decoy = '10.0.10.480';
`

const EXPECTED = `<?php
// the finance database was 10.0.10.48 before the move
define('DB_HOST', 'finance.thehumanjourney.net');
define('DB_PASSWORD', '${ENCODED}');
$databases = array(
    'finance' => array('dsn' => 'pgsql:host=finance.thehumanjourney.net;port=5432;dbname=finance'),
    'hr'      => array('dsn' => "pgsql:host=finance.thehumanjourney.net;dbname=hr;user=$user"),
);
$conninfo = <<<EOT
host=finance.thehumanjourney.net dbname=finance user=$user
EOT;
$decoy = '10.0.10.480';
`

const TARGET = 'var/www/finance/config.php'

function tree(): string {
  const dir = tempDir('cutover-php-')
  writeFileSync(join(dir, 'cutover.yaml'), SPEC)
  mkdirSync(dirname(join(dir, TARGET)), { recursive: true })
  writeFileSync(join(dir, TARGET), CONFIG)
  chmodSync(join(dir, TARGET), 0o640)
  return dir
}

function expectNoPassword(s: string) {
  for (const v of [OLD_PASSWORD, SECRET, ENCODED, "n3w\\'pa", 'pa\\\\ss'])
    expect(s).not.toContain(v)
}

describe('php step acceptance: config.php with a secret, through the CLI', () => {
  const env = { FINANCE_DB_PASSWORD: SECRET }

  it('plans without showing either password, reports the comment as a leftover, applies byte-exactly', async () => {
    const dir = tree()
    const human = memoryIo({ cwd: dir, env })
    expect(
      await run(['plan', '--root', '.', '--profile', 'test', '--detailed-exitcode'], human),
    ).toBe(2)
    expectNoPassword(human.out() + human.err())
    // masked by position: the line shows everything but the value
    expect(human.out()).toContain("-define('DB_PASSWORD', '(sensitive)');\n")
    expect(human.out()).toContain("+define('DB_PASSWORD', '(sensitive)');\n")
    expect(human.out()).toContain(`${TARGET}:2:29: 10.0.10.48 — old address: inside a comment`)
    expect(human.out()).toMatch(
      /10\.0\.10\.48 — near-miss: "10\.0\.10\.48" inside "10\.0\.10\.480"/,
    )

    const json = memoryIo({ cwd: dir, env })
    expect(await run(['plan', '--root', '.', '--profile', 'test', '--json'], json)).toBe(0)
    expectNoPassword(json.out())
    const doc = JSON.parse(json.out())
    expect(doc.leftovers).toContainEqual({
      target: TARGET,
      line: 2,
      col: 29,
      text: '10.0.10.48',
      reason: 'old address: inside a comment',
    })
    expect(doc.changes[0].validators).toEqual(['php-lint'])

    const saved = memoryIo({ cwd: dir, env })
    expect(
      await run(['plan', '--root', '.', '--profile', 'test', '--out', 'plan.json'], saved),
    ).toBe(0)
    expectNoPassword(saved.out())
    expectNoPassword(readFileSync(join(dir, 'plan.json'), 'utf8'))
    expect(statSync(join(dir, 'plan.json')).mode & 0o777).toBe(0o600)
    expect(readFileSync(join(dir, TARGET), 'utf8')).toBe(CONFIG)

    if (need('php'))
      expect(execFileSync('php', ['-l', join(dir, TARGET)]).toString()).toContain(
        'No syntax errors',
      )
    const applied = memoryIo({ cwd: dir, env })
    expect(await run(['apply', 'plan.json', '--root', '.'], applied)).toBe(0)
    expectNoPassword(applied.out() + applied.err())
    expect(readFileSync(join(dir, TARGET), 'utf8')).toBe(EXPECTED)
    expect(statSync(join(dir, TARGET)).mode & 0o777).toBe(0o640)
    if (need('php')) {
      expect(execFileSync('php', ['-l', join(dir, TARGET)]).toString()).toContain(
        'No syntax errors',
      )
      const got = execFileSync('php', [
        '-r',
        `$user = 'u'; include '${join(dir, TARGET)}'; echo DB_PASSWORD;`,
      ]).toString()
      expect(got === SECRET).toBe(true)
    }

    const again = memoryIo({ cwd: dir, env })
    expect(
      await run(['plan', '--root', '.', '--profile', 'test', '--detailed-exitcode'], again),
    ).toBe(0)
    expectNoPassword(again.out())
  })

  it('refuses to apply a saved plan when the secret is missing or changed, writing nothing', async () => {
    const dir = tree()
    expect(
      await run(
        ['plan', '--root', '.', '--profile', 'test', '--out', 'plan.json'],
        memoryIo({ cwd: dir, env }),
      ),
    ).toBe(0)
    const missing = memoryIo({ cwd: dir, env: {} })
    expect(await run(['apply', 'plan.json', '--root', '.'], missing)).toBe(1)
    expect(missing.err()).toContain('FINANCE_DB_PASSWORD')
    const changed = memoryIo({ cwd: dir, env: { FINANCE_DB_PASSWORD: 'other' } })
    expect(await run(['apply', 'plan.json', '--root', '.'], changed)).toBe(1)
    expect(changed.err()).toMatch(/FINANCE_DB_PASSWORD.*differs/)
    expectNoPassword(missing.err() + changed.err())
    expect(readFileSync(join(dir, TARGET), 'utf8')).toBe(CONFIG)
  })

  it('aborts the whole apply when php -l rejects a staged file', async () => {
    if (!need('php')) return
    const dir = tree()
    // an unterminated string after the literal: the rewrite keeps it broken, php -l must refuse
    const broken = CONFIG + "$x = 'unterminated;\n"
    writeFileSync(join(dir, TARGET), broken)
    const out = memoryIo({ cwd: dir, env })
    expect(await run(['apply', '--root', '.', '--profile', 'test', '--yes'], out)).toBe(1)
    expect(out.err()).toMatch(/php -l/)
    expect(readFileSync(join(dir, TARGET), 'utf8')).toBe(broken)
    expectNoPassword(out.out() + out.err())
  })
})
