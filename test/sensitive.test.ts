import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { runCli } from '../packages/cli/test/run-cli.js'
import { tempDir } from '@cutover/test-kit/temp'

// Sensitive values through the CLI, run in this process (issue 15 §2, issue 14 medium and low
// points).

function cutover(args: string[], cwd: string, env: Record<string, string> = {}) {
  return runCli(args, { cwd, env: { NO_COLOR: '1', ...env } })
}

const bin = resolve(import.meta.dirname, '../packages/cli/dist/bin.js')

/** Runs the built binary: for a PATH of its own (the tools are looked up on the process's PATH). */
function spawned(args: string[], cwd: string, env: Record<string, string>) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

function tree(files: Record<string, string>): string {
  const dir = tempDir('cutover-sensitive-')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

const OLD = 'Summer2019!'

const SPEC = `version: 1
hosts:
  moodle-db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
secrets:
  MOODLE_DB_PASSWORD: { env: MOODLE_DB_PASSWORD }
steps:
  - php:
      files: ["var/www/moodle/config.php"]
      addresses: names
      set: { "CFG->dbpass": { secret: MOODLE_DB_PASSWORD } }
  - text:
      files: ["home/moodle/.pgpass"]
      addresses: names
`

const CONFIG = `<?php
$CFG = new stdClass();
$CFG->dbhost = '10.0.10.48';
$CFG->dbpass = '${OLD}';
$CFG->dataroot = '/srv/moodledata';
`

// the same old password in another file, changed by another rule on the same line, and as context
const PGPASS = `10.0.10.48:5432:lms:lms:${OLD}
# ${OLD} was set in 2019
localhost:5432:lms:lms:${OLD}
`

const FILES = {
  'cutover.yaml': SPEC,
  'var/www/moodle/config.php': CONFIG,
  'home/moodle/.pgpass': PGPASS,
}

describe('a secret that is a common word (MOODLE_DB_PASSWORD=moodle)', () => {
  const env = { MOODLE_DB_PASSWORD: 'moodle' }

  it('shows every path unmasked, the value nowhere, and the old password in no output', async () => {
    const dir = tree(FILES)
    const plan = await cutover(['plan', '--root', '.'], dir, env)
    expect(plan.err).toBe('')
    expect(plan.code).toBe(0)
    const json = await cutover(['plan', '--root', '.', '--json'], dir, env)
    expect(json.code).toBe(0)
    const saved = await cutover(['plan', '--root', '.', '--out', 'plan.json'], dir, env)
    expect(saved.code).toBe(0)
    const outputs = [plan.out, json.out, saved.out, readFileSync(join(dir, 'plan.json'), 'utf8')]
    // paths, headers and the summary are never masked
    expect(plan.out).toContain('--- a/var/www/moodle/config.php\n+++ b/var/www/moodle/config.php\n')
    expect(plan.out).toContain('--- a/home/moodle/.pgpass\n')
    expect(plan.out).toMatch(/^ {2}var\/www\/moodle\/config\.php +php/m)
    // by position: the line shows everything but the value; unrelated lines are not masked
    expect(plan.out).toContain(
      "-$CFG->dbpass = '(sensitive)';\n+$CFG->dbhost = 'moodle-db.example.org';\n+$CFG->dbpass = '(sensitive)';\n",
    )
    expect(plan.out).toContain(" $CFG->dataroot = '/srv/moodledata';\n")
    // the old password is hidden in the other file too, on changed lines and in context
    expect(plan.out).toContain(
      '-10.0.10.48:5432:lms:lms:(sensitive)\n+moodle-db.example.org:5432:lms:lms:(sensitive)\n # (sensitive) was set in 2019\n',
    )
    for (const o of outputs) {
      expect(o).not.toContain(OLD)
      expect(o).not.toContain('(sensitive)/')
      // once the paths and the host name are taken out, the word is nowhere: the value is never shown
      expect(
        o
          .replaceAll('var/www/moodle/', '')
          .replaceAll('home/moodle/', '')
          .replaceAll('moodledata', '')
          .replaceAll('moodle-db.example.org', ''),
      ).not.toContain('moodle')
    }
    const doc = JSON.parse(json.out)
    expect(doc.changes.map((c: { target: string }) => c.target)).toEqual([
      'home/moodle/.pgpass',
      'var/www/moodle/config.php',
    ])
    // summaries are never searched for the secret's value either
    expect(doc.changes[1].edits.map((e: { summary: string }) => e.summary)).toEqual([
      '10.0.10.48 -> moodle-db.example.org',
      '(sensitive)',
    ])

    const apply = await cutover(['apply', 'plan.json', '--root', '.'], dir, env)
    expect(apply.err).toBe('')
    expect(apply.code).toBe(0)
    expect(apply.out).not.toContain(OLD)
    expect(readFileSync(join(dir, 'var/www/moodle/config.php'), 'utf8')).toContain(
      "$CFG->dbpass = 'moodle';\n",
    )
    expect((await cutover(['verify', '--root', '.'], dir, env)).code).toBe(0)
  })

  it('keeps plan --json valid JSON for a one-character secret, and apply agrees with its hashes', async () => {
    for (const secret of ['e', '"', '\\']) {
      const dir = tree(FILES)
      const json = await cutover(['plan', '--root', '.', '--json'], dir, {
        MOODLE_DB_PASSWORD: secret,
      })
      expect(json.code).toBe(0)
      const doc = JSON.parse(json.out)
      expect(doc.changes[1].target).toBe('var/www/moodle/config.php')
      expect(doc.changes[1].edits.find((e: { secret?: unknown }) => e.secret)).toMatchObject({
        secret: { name: 'MOODLE_DB_PASSWORD' },
      })
      writeFileSync(join(dir, 'plan.json'), json.out)
      const apply = await cutover(['apply', 'plan.json', '--root', '.'], dir, {
        MOODLE_DB_PASSWORD: secret,
      })
      expect(apply.err).toBe('')
      expect(apply.code).toBe(0)
    }
  })

  it('records salted hashes of the masked text: 256 guesses of the old password confirm nothing', async () => {
    const dir = tree(FILES)
    const json = await cutover(['plan', '--root', '.', '--json'], dir, env)
    const doc = JSON.parse(json.out)
    const change = doc.changes.find(
      (c: { target: string }) => c.target === 'var/www/moodle/config.php',
    )
    const edit = change.edits.find((e: { secret?: unknown }) => e.secret)
    expect(change.before).toMatch(/^masked-sha256:[0-9a-f]{64}$/)
    expect(change.salt).toMatch(/^[0-9a-f]{32}$/)
    // the attack of the issue: the file around the value is known (the diff shows it), the value's
    // offsets are in the plan; try 256 guesses, the real one among them
    const guesses = Array.from(
      { length: 255 },
      (_, i) => `Summer${2000 + (i % 30)}${'!?#$%&*+'[i % 8]}`,
    ).filter((g) => g !== OLD)
    guesses.splice(77, 0, OLD)
    const file = (g: string) =>
      CONFIG.slice(0, edit.start) + g + CONFIG.slice(edit.start + OLD.length)
    expect(file(OLD)).toBe(readFileSync(join(dir, 'var/www/moodle/config.php'), 'utf8'))
    const sha = (s: string) => createHash('sha256').update(s).digest('hex')
    const salted = (g: string) =>
      createHash('sha256').update(`${change.salt}\u0000utf8\u0000`).update(file(g)).digest('hex')
    for (const g of guesses) {
      expect(change.before.endsWith(sha(file(g)))).toBe(false)
      expect(change.before.endsWith(salted(g))).toBe(false)
    }
    // and a stale check still works: any other change of the file is refused
    writeFileSync(join(dir, 'plan.json'), json.out)
    writeFileSync(
      join(dir, 'var/www/moodle/config.php'),
      CONFIG.replace('moodledata', 'moodledatb'),
    )
    const apply = await cutover(['apply', 'plan.json', '--root', '.'], dir, env)
    expect(apply.code).toBe(1)
    expect(apply.err).toContain('var/www/moodle/config.php: changed since the plan')
    expect(apply.err).not.toContain(OLD)
  })
})

describe('values that look like credentials', () => {
  const spec = `version: 1
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
steps:
  - text:
      files: ["etc/app/*"]
      addresses: names
`
  const files = {
    'cutover.yaml': spec,
    'etc/app/app.ini':
      'host = 10.0.10.48\napi_key = k3y-abc\ndb_password = two words here ; a comment\n',
    'etc/app/app.php':
      "<?php\n$host = '10.0.10.48';\n$CFG->dbpass = 'php-pw';\ndefine('SECRET_TOKEN', \"tok-1\");\n",
    'etc/app/app.json': '{\n  "host": "10.0.10.48",\n  "password": "json-pw"\n}\n',
    'etc/app/conn.txt':
      'url=postgres://app:url-pw@10.0.10.48/app\nconninfo host=10.0.10.48 user=app password=ci-pw dbname=app\n',
    'etc/app/.pgpass': '10.0.10.48:5432:app:app:pg:pw\n',
  }
  const values = [
    'k3y-abc',
    'two words here',
    'php-pw',
    'tok-1',
    'json-pw',
    'url-pw',
    'ci-pw',
    'pg:pw',
    'pg\\:pw',
  ]

  it('are shown as (sensitive) in diffs by default, and plan --show-sensitive reveals them', async () => {
    const dir = tree(files)
    const plan = await cutover(['plan', '--root', '.'], dir)
    expect(plan.code).toBe(0)
    for (const v of values) expect(plan.out).not.toContain(v)
    expect(plan.out).toContain(' api_key = (sensitive)\n db_password = (sensitive) ; a comment\n')
    expect(plan.out).toContain(
      " $CFG->dbpass = '(sensitive)';\n define('SECRET_TOKEN', \"(sensitive)\");\n",
    )
    expect(plan.out).toContain('   "password": "(sensitive)"\n')
    expect(plan.out).toContain('+url=postgres://app:(sensitive)@db.example.org/app\n')
    expect(plan.out).toContain(
      '+conninfo host=db.example.org user=app password=(sensitive) dbname=app\n',
    )
    expect(plan.out).toContain('+db.example.org:5432:app:app:(sensitive)\n')
    const json = await cutover(['plan', '--root', '.', '--json'], dir)
    for (const v of values) expect(json.out).not.toContain(v)
    const shown = await cutover(['plan', '--root', '.', '--show-sensitive'], dir)
    expect(shown.code).toBe(0)
    for (const v of [
      'k3y-abc',
      'two words here',
      'php-pw',
      'tok-1',
      'json-pw',
      'url-pw',
      'ci-pw',
      'pg:pw',
    ])
      expect(shown.out).toContain(v)
    // a plan document never holds them
    for (const extra of [['--json'], ['--out', 'plan.json']]) {
      const refused = await cutover(['plan', '--root', '.', '--show-sensitive', ...extra], dir)
      expect(refused.code).toBe(1)
      expect(refused.err).toContain('--show-sensitive shows the review only')
    }
  })

  it('never reveals a declared secret or the old value it replaces, even with --show-sensitive', async () => {
    const dir = tree(FILES)
    const shown = await cutover(['plan', '--root', '.', '--show-sensitive'], dir, {
      MOODLE_DB_PASSWORD: 'n3w-pw',
    })
    expect(shown.code).toBe(0)
    expect(shown.out).not.toContain(OLD)
    expect(shown.out).not.toContain('n3w-pw')
    expect(shown.out).toContain("+$CFG->dbpass = '(sensitive)';\n")
  })
})

describe('the review cannot be forged by file contents or names', () => {
  it('shows control characters visibly and quotes odd file names', async () => {
    // (a name with CR or LF matches no glob; an ESC can still rewrite what a terminal shows)
    const name = 'etc/x\u001b[2K\u001b[1A+++ forged.conf'
    const dir = tree({
      'cutover.yaml':
        'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["etc/**"], addresses: names }\n',
      [name]: 'host=10.0.10.48\n',
      'etc/ansi.conf':
        'host=10.0.10.48 \u001b[2K\u001b[1A\r+host=10.0.10.49\u009b31m \u202eevil\n# 10.0.10.48\u001b[8m hidden\n',
    })
    const plan = await cutover(['plan', '--root', '.'], dir)
    expect(plan.code).toBe(0)
    expect(plan.out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/)
    expect(plan.out).toContain(
      '+host=db.example.org ^[[2K^[[1A^M+host=10.0.10.49M-^[31m <U+202E>evil\n',
    )
    expect(plan.out).toContain(
      '--- "a/etc/x\\033[2K\\033[1A+++ forged.conf"\n+++ "b/etc/x\\033[2K\\033[1A+++ forged.conf"\n',
    )
    expect(plan.out).toContain('  "etc/x\\033[2K\\033[1A+++ forged.conf"  text')
    expect(plan.out).toContain('+# db.example.org^[[8m hidden\n')
    expect(plan.out.split('\n').filter((l) => l.startsWith('+++ '))).toHaveLength(2)
    // the file list of --verbose and error messages naming such a file are shown alike
    const verbose = await cutover(['plan', '--root', '.', '--verbose'], dir)
    expect(verbose.err).toContain('etc/x^[[2K^[[1A+++ forged.conf: ')
    expect(verbose.err).not.toContain('\u001b')
    writeFileSync(
      join(dir, 'cutover.yaml'),
      'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - json: { files: ["etc/x*"], addresses: names }\n',
    )
    const bad = await cutover(['plan', '--root', '.'], dir)
    expect(bad.code).toBe(1)
    expect(bad.err).toContain('etc/x^[[2K^[[1A+++ forged.conf:1:1: JSON_SYNTAX')
    expect(bad.err).not.toContain('\u001b')
  })
})

describe('a syntax error', () => {
  it('never prints the old password of the line it shows, nor its control characters', async () => {
    const spec = `version: 1
hosts: {}
secrets:
  PW: { env: PW }
steps:
  - json:
      files: ["etc/app.json"]
      set: { "db.password": { secret: PW } }
`
    for (const [json, caret] of [
      [
        `{\n  "db": { "host": "h", "password": "${OLD}" "user": "x" }\n}\n`,
        'etc/app.json:2:50: JSON_SYNTAX',
      ],
      [
        `{\n  "db": { "host": "h",\n  "password": "${OLD}\n  }\n}\n`,
        'etc/app.json:3:15: JSON_SYNTAX',
      ],
      [`{\n  "db": { "password": "${OLD}", \u001b[2K }\n}\n`, 'etc/app.json:2:'],
    ] as const) {
      const dir = tree({ 'cutover.yaml': spec, 'etc/app.json': json })
      const r = await cutover(['plan', '--root', '.'], dir, { PW: 'n3w-pw' })
      expect(r.code).toBe(1)
      expect(r.err).toContain(caret)
      expect(r.err).toContain('"password": "(sensitive)')
      expect(r.err).not.toContain(OLD)
      expect(r.err).not.toContain('\u001b')
    }
  })
})

describe('a syntax error on the line of a key set from a secret', () => {
  it('never prints the old value, whatever the key is named', async () => {
    const dir = tree({
      'cutover.yaml':
        'version: 1\nhosts: {}\nsecrets:\n  PW: { env: PW }\nsteps:\n  - json:\n      files: ["etc/app.json"]\n      set: { "db.pw": { secret: PW } }\n',
      'etc/app.json': `{\n  "db": { "pw": "${OLD}" "user": "x" }\n}\n`,
    })
    const r = await cutover(['plan', '--root', '.'], dir, { PW: 'n3w-pw' })
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      'etc/app.json:2:31: JSON_SYNTAX invalid JSON: CommaExpected\n    "db": { "pw": "(sensitive)" "user": "x" }\n                                ^^^^^^\n',
    )
    expect(r.err).not.toContain(OLD)
  })
})

describe('an old password that looks like something else', () => {
  it('is hidden in leftovers too (a near-miss quotes the word around an address)', async () => {
    const dir = tree({
      'cutover.yaml': `version: 1
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
secrets:
  PW: { env: PW }
steps:
  - php:
      files: ["etc/app.php"]
      set: { DB_PASSWORD: { secret: PW } }
  - text:
      files: ["home/u/.pgpass"]
      addresses: names
`,
      'etc/app.php': "<?php\ndefine('DB_PASSWORD', '10.0.10.480');\n",
      'home/u/.pgpass': '10.0.10.48:5432:db:u:x\n# old 10.0.10.480\n',
    })
    const plan = await cutover(['plan', '--root', '.'], dir, { PW: 'n3w-pw' })
    const json = await cutover(['plan', '--root', '.', '--json'], dir, { PW: 'n3w-pw' })
    expect(plan.out).toContain(
      'home/u/.pgpass:2:7: 10.0.10.48 — near-miss: "10.0.10.48" inside "(sensitive)"',
    )
    for (const o of [plan.out, json.out]) expect(o).not.toContain('10.0.10.480')
    expect(JSON.parse(json.out).leftovers).toHaveLength(1)
  })
})

describe('a validator that rejects a file at apply', () => {
  // php -l quotes the unexpected token (cut after 30 characters), visudo the whole line: the
  // plan was saved where php was missing (its lint at plan time was skipped), then applied
  const LONG = 'AVeryLongOldPasswordThatIsMoreThan30Chars'

  it.runIf(need('php') && need('visudo'))(
    'shows neither the secret, nor the old values it replaces, nor a credential of the line it quotes',
    async () => {
      const dir = tree({
        'cutover.yaml': `version: 1
hosts: {}
secrets:
  PW: { env: MOODLE_DB_PASSWORD }
steps:
  - php:
      files: ["var/www/moodle/*.php"]
      set: { "CFG->dbpass": { secret: PW } }
  - sudoers:
      files: ["etc/sudoers.d/moodle"]
      rules: ["www-data ALL = (postgres) NOPASSWD: /usr/bin/true"]
`,
        'var/www/moodle/config.php': `<?php\n$CFG->dbpass = '${OLD}';\n$x = 1 '${OLD}';\n`,
        'var/www/moodle/other.php': `<?php\n$CFG->dbpass = '${LONG}';\n$y = 1 '${LONG}';\n`,
        // sudo refuses the timeout; the line also holds the old password, a credential and the secret
        'etc/sudoers.d/moodle': `www-data ALL = (postgres) TIMEOUT=xx /usr/bin/psql -W ${OLD} --password=hunter2 moodle\n`,
      })
      chmodSync(join(dir, 'etc/sudoers.d/moodle'), 0o440)
      const env = { MOODLE_DB_PASSWORD: 'moodle' }
      const saved = spawned(['plan', '--root', '.', '--out', 'plan.json'], dir, {
        ...env,
        PATH: '/nonexistent',
      })
      expect(saved.code).toBe(0)
      const apply = await cutover(
        ['apply', 'plan.json', '--root', '.', '--state-dir', join(dir, 'state')],
        dir,
        env,
      )
      expect(apply.code).toBe(1)
      expect(apply.err).toContain('validation failed, nothing was written')
      // the tools' messages are there, paths whole, the caret under the same text
      expect(apply.err).toContain(
        'etc/sudoers.d/moodle:1:35: invalid timeout value\nwww-data ALL = (postgres) TIMEOUT=xx /usr/bin/psql -W (sensitive) --password=(sensitive) (sensitive)\n                                  ^~\n',
      )
      expect(apply.err).toContain(
        `var/www/moodle/config.php: php-lint: php -l: Parse error: syntax error, unexpected single-quoted string "(sensitive)" in var/www/moodle/config.php on line 3`,
      )
      expect(apply.err).toContain(
        `unexpected single-quoted string "(sensitive)..." in var/www/moodle/other.php on line 3`,
      )
      for (const v of [OLD, LONG.slice(0, 8), 'hunter2']) expect(apply.err).not.toContain(v)
      expect(
        apply.err.replaceAll('var/www/moodle/', '').replaceAll('etc/sudoers.d/moodle', ''),
      ).not.toContain('moodle')
    },
  )
})

describe('an error at plan time', () => {
  it('never quotes a secret an earlier step wrote into the file, in the message or the line', async () => {
    // an ini step writes the secret into the file; the sudoers step then reads it and refuses it
    const dir = tree({
      'cutover.yaml': `version: 1
hosts: {}
secrets:
  PW: { env: PW }
steps:
  - ini:
      files: ["etc/sudoers.d/pg"]
      set: { "Cmnd_Alias PGPW": { secret: PW } }
  - sudoers:
      files: ["etc/sudoers.d/pg"]
      rules: ["www-data ALL = PGPW"]
`,
      'etc/sudoers.d/pg': 'Cmnd_Alias PGPW = /usr/bin/env PGPASSWORD=x /usr/bin/psql\n',
    })
    chmodSync(join(dir, 'etc/sudoers.d/pg'), 0o440)
    const r = await cutover(['plan', '--root', '.'], dir, { PW: 'n3w-pw' })
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      'etc/sudoers.d/pg:1:19: RELATIVE_PATH expected a fully-qualified path name, got "(sensitive)"\n  Cmnd_Alias PGPW = (sensitive)\n',
    )
    expect(r.err).not.toContain('n3w-pw')
    // a warning about it quotes a part of it
    const warned = await cutover(['plan', '--root', '.', '--json'], dir, {
      PW: '/usr/bin/psql ./n3w-pw',
    })
    expect(warned.code).toBe(0)
    expect(JSON.parse(warned.out).notes).toMatchObject([
      {
        target: 'etc/sudoers.d/pg',
        code: 'RELATIVE_PATH',
        message: expect.stringContaining('argument "(sensitive)" of "(sensitive)" is relative'),
      },
    ])
    expect(warned.out).not.toContain('n3w-pw')
    expect(warned.out).not.toContain('/usr/bin/psql')
  })

  it.runIf(need('php'))(
    'of the PHP linter never quotes an old password a secret replaces, in the message or the line',
    async () => {
      const dir = tree({ ...FILES, 'var/www/moodle/config.php': `${CONFIG}$x = 1 '${OLD}';\n` })
      const r = await cutover(['plan', '--root', '.'], dir, { MOODLE_DB_PASSWORD: 'n3w-pw' })
      expect(r.code).toBe(1)
      expect(r.err).toContain(
        `var/www/moodle/config.php:6:8: PLANNED_INVALID php -l: Parse error: syntax error, unexpected single-quoted string "(sensitive)" in var/www/moodle/config.php on line 6`,
      )
      expect(r.err).toContain("\n  $x = 1 '(sensitive)';\n")
      expect(r.err).not.toContain(OLD)
      // on the line of the secret, the stars that stand for it in the linted text would tell its length
      const keyed = tree({
        'cutover.yaml':
          'version: 1\nhosts: {}\nsecrets:\n  PW: { env: PW }\nsteps:\n  - php:\n      files: ["etc/app.php"]\n      set: { MOODLE_KEY: { secret: PW } }\n',
        'etc/app.php': "<?php\ndefine('MOODLE_KEY', 'old') + ;\n",
      })
      const starred = await cutover(['plan', '--root', '.'], keyed, { PW: 'n3w-pw' })
      expect(starred.code).toBe(1)
      expect(starred.err).toContain(
        "\n  define('MOODLE_KEY', '(sensitive)') + ;\n                                        ^\n",
      )
      expect(starred.err).not.toMatch(/\*\*\*/)
    },
  )
})

describe('a leftover on a credential line', () => {
  it('quotes no credential-looking value around the address it names', async () => {
    const dir = tree({
      'cutover.yaml':
        'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["etc/*"], addresses: names }\n',
      'etc/app.env':
        'DB_PASSWORD=10.0.10.481\nurl=postgres://u:x10.0.10.48.9@h/db\nhost=10.0.10.480\n',
    })
    for (const args of [[], ['--json']]) {
      const r = await cutover(['plan', '--root', '.', ...args], dir)
      expect(r.code).toBe(0)
      expect(r.out).not.toContain('10.0.10.481')
      expect(r.out).not.toContain('x10.0.10.48.9')
    }
    const plan = await cutover(['plan', '--root', '.'], dir)
    expect(plan.out).toContain(
      'etc/app.env:1:13: 10.0.10.48 — near-miss: "10.0.10.48" inside "(sensitive)" is not rewritten\n',
    )
    expect(plan.out).toContain(
      'etc/app.env:2:19: 10.0.10.48 — near-miss: "10.0.10.48" inside "(sensitive)" is not rewritten\n',
    )
    // not a credential: shown
    expect(plan.out).toContain(
      'etc/app.env:3:6: 10.0.10.48 — near-miss: "10.0.10.48" inside "10.0.10.480" is not rewritten\n',
    )
  })
})

describe('a secret holding an old address', () => {
  const spec = `version: 1
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
secrets:
  PW: { env: PW }
steps:
  - ini:
      files: ["etc/app.ini"]
      set: { "db.pw": { secret: PW } }
  - text:
      files: ["etc/app.ini"]
      addresses: names
`
  it('is written as it is: a later step neither rewrites it nor quotes it, before or after apply', async () => {
    for (const pw of ['pw-10.0.10.48', 'x10.0.10.480']) {
      const dir = tree({
        'cutover.yaml': spec,
        'etc/app.ini': '[db]\nhost = 10.0.10.48\npw = old\n',
      })
      const state = join(dir, 'state')
      const plan = await cutover(['plan', '--root', '.', '--state-dir', state], dir, { PW: pw })
      expect(plan.code).toBe(0)
      expect(plan.out).toContain('\n-pw = (sensitive)\n+host = db.example.org\n+pw = (sensitive)\n')
      expect(plan.out + plan.err).not.toContain(pw)
      const json = await cutover(['plan', '--root', '.', '--json', '--state-dir', state], dir, {
        PW: pw,
      })
      expect(json.out).not.toContain(pw)
      expect(
        (await cutover(['apply', '--yes', '--root', '.', '--state-dir', state], dir, { PW: pw }))
          .code,
      ).toBe(0)
      expect(readFileSync(join(dir, 'etc/app.ini'), 'utf8')).toBe(
        `[db]\nhost = db.example.org\npw = ${pw}\n`,
      )
      // the secret is there: nothing to do, and a diff around it shows it masked
      const again = await cutover(['verify', '--root', '.', '--state-dir', state], dir, { PW: pw })
      expect(again.code).toBe(0)
      expect(again.out + again.err).not.toContain(pw)
      writeFileSync(join(dir, 'etc/app.ini'), `[db]\nhost = 10.0.10.48\npw = ${pw}\n`)
      const context = await cutover(['plan', '--root', '.', '--state-dir', state], dir, { PW: pw })
      expect(context.out).toContain(
        '\n-host = 10.0.10.48\n+host = db.example.org\n pw = (sensitive)\n',
      )
      // the secret already there is not counted as a change
      expect(context.out).toMatch(/^ {2}etc\/app\.ini +ini\+text +\+1 -1 +addresses ×1\n/m)
      expect(context.out + context.err).not.toContain(pw)
    }
  })
})

describe('a credential-looking value the diff masks', () => {
  it("cannot be confirmed by guesses against the plan's hashes; apply and the stale check still work", async () => {
    const pgpass = `10.0.10.48:5432:lms:lms:${OLD}\n`
    const dir = tree({
      'cutover.yaml':
        'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["home/u/.pgpass", "etc/plain.conf"], addresses: names }\n',
      'home/u/.pgpass': pgpass,
      'etc/plain.conf': 'host=10.0.10.48\n',
    })
    const json = await cutover(['plan', '--root', '.', '--json'], dir)
    expect(json.code).toBe(0)
    expect(json.out).not.toContain(OLD)
    const doc = JSON.parse(json.out)
    const change = doc.changes.find((c: { target: string }) => c.target === 'home/u/.pgpass')
    expect(change.before).toMatch(/^masked-sha256:[0-9a-f]{64}$/)
    expect(change.after).toMatch(/^masked-sha256:[0-9a-f]{64}$/)
    // a file without one keeps its plain sha256
    expect(
      doc.changes.find((c: { target: string }) => c.target === 'etc/plain.conf').before,
    ).toMatch(/^sha256:/)
    const sha = (s: string) => createHash('sha256').update(s).digest('hex')
    const salted = (s: string) =>
      createHash('sha256').update(`${change.salt}\u0000utf8\u0000`).update(s).digest('hex')
    for (const g of ['Summer2018!', OLD, 'Winter2019!']) {
      const file = `10.0.10.48:5432:lms:lms:${g}\n`
      expect(change.before.endsWith(sha(file))).toBe(false)
      expect(change.before.endsWith(salted(file))).toBe(false)
    }
    writeFileSync(join(dir, 'plan.json'), json.out)
    writeFileSync(join(dir, 'home/u/.pgpass'), pgpass.replace('5432', '5433'))
    const stale = await cutover(
      ['apply', 'plan.json', '--root', '.', '--state-dir', join(dir, 'state')],
      dir,
    )
    expect(stale.code).toBe(1)
    expect(stale.err).toContain('home/u/.pgpass: changed since the plan')
    writeFileSync(join(dir, 'home/u/.pgpass'), pgpass)
    const apply = await cutover(
      ['apply', 'plan.json', '--root', '.', '--state-dir', join(dir, 'state')],
      dir,
    )
    expect(apply.err).toBe('')
    expect(apply.code).toBe(0)
    expect(readFileSync(join(dir, 'home/u/.pgpass'), 'utf8')).toBe(
      `db.example.org:5432:lms:lms:${OLD}\n`,
    )
  })
})
