import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { hasPhp, parsePhp, phpLint, phpStep, tokenizePhp, type PhpOptions } from '../src/index.js'
import {
  changedLines,
  financeContext as context,
  corpusFiles,
  need,
  planText,
} from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

const opts = (o: Partial<PhpOptions>): PhpOptions => ({ files: ['x'], ...o })

async function lint(text: string): Promise<string | undefined> {
  const dir = tempDir('cutover-phplint-')
  writeFileSync(join(dir, 'c.php'), text)
  return phpLint.run(join(dir, 'c.php'), 'c.php')
}

describe('php step: rules inside string literals only', () => {
  it('rewrites single, double (around $var), heredoc and nowdoc literals, never comments or code', async () => {
    const src = [
      '<?php',
      '# 10.0.10.48 in a comment; /* 10.0.10.48 */',
      "$a = '10.0.10.48'; $b = \"h=10.0.10.48;u=$user;{$x['10.0.10.48']}\";",
      '$c = <<<EOT',
      '  host=10.0.10.48 $x',
      '  EOT;',
      "$d = <<<'NOW'",
      'raw 10.0.10.48',
      'NOW;',
      "$e = env('DB_HOST', '10.0.10.48'); $f = '10.0.10.480'; $g = `ping 10.0.10.48`;",
      '?>',
      '<p>10.0.10.48</p>',
      '',
    ].join('\n')
    const r = await planText(phpStep, src, opts({ addresses: 'names' }))
    expect(r.after).toBe(
      src
        .replace("$a = '10.0.10.48'", "$a = 'finance.thehumanjourney.net'")
        .replace('h=10.0.10.48;', 'h=finance.thehumanjourney.net;')
        .replace("{$x['10.0.10.48']}", "{$x['finance.thehumanjourney.net']}")
        .replace('host=10.0.10.48', 'host=finance.thehumanjourney.net')
        .replace('raw 10.0.10.48', 'raw finance.thehumanjourney.net')
        .replace("'DB_HOST', '10.0.10.48'", "'DB_HOST', 'finance.thehumanjourney.net'"),
    )
    const reasons = r.leftovers.map((l) => [src.slice(0, l.start).split('\n').length, l.reason])
    expect(reasons).toEqual([
      [2, 'old address: inside a comment'],
      [2, 'old address: inside a comment'],
      [10, 'near-miss: "10.0.10.48" inside "10.0.10.480" is not rewritten'],
      [10, 'old address: not a string literal'],
      [12, 'old address: outside the <?php ?> tags'],
    ])
    expect((await planText(phpStep, r.after, opts({ addresses: 'names' }))).edits).toEqual([])
  })

  it('matches variants as whole literals only and flips profiles idempotently', async () => {
    const src =
      "<?php $k = ['oas.staff', 'oas.projects.test', 'oas.staff.extra', \"oas.staff,x\"];\n"
    const test = await planText(phpStep, src, opts({ variants: ['routing-keys'] }))
    expect(test.after).toBe(
      "<?php $k = ['oas.staff.test', 'oas.projects.test', 'oas.staff.extra', \"oas.staff,x\"];\n",
    )
    expect(test.leftovers.map((l) => l.reason)).toEqual([
      'near-miss: "oas.staff" inside "oas.staff.extra" is not rewritten',
      'variant of another profile than "test": inside a longer string literal (variants match whole literals)',
    ])
    expect(
      (await planText(phpStep, test.after, opts({ variants: ['routing-keys'] }))).edits,
    ).toEqual([])
    const live = await planText(
      phpStep,
      test.after,
      opts({ variants: ['routing-keys'] }),
      context({ profile: 'live' }),
    )
    expect(live.after).toBe(
      "<?php $k = ['oas.staff', 'oas.projects', 'oas.staff.extra', \"oas.staff,x\"];\n",
    )
  })

  it('encodes replacements and set values for the quoting of each literal', async () => {
    const src = [
      '<?php',
      "define('DB_PASSWORD', 'old');",
      '$cfg = array("DB_PASSWORD" => "old", \'port\' => 5432);',
      '$DB_PASSWORD = <<<EOT',
      'old',
      'EOT;',
      "$CFG->dbpass = 'x'; $DB_PASSWORD .= 'not an assignment';",
      '',
    ].join('\n')
    const value = 'a\'b"c\\d$e'
    const r = await planText(
      phpStep,
      src,
      opts({ set: { DB_PASSWORD: value, port: '5433', 'CFG->dbpass': 'p' } }),
    )
    expect(r.after).toBe(
      [
        '<?php',
        "define('DB_PASSWORD', 'a\\'b\"c\\\\d$e');",
        '$cfg = array("DB_PASSWORD" => "a\'b\\"c\\\\d\\$e", \'port\' => \'5433\');',
        '$DB_PASSWORD = <<<EOT',
        'a\'b"c\\\\d\\$e',
        'EOT;',
        "$CFG->dbpass = 'p'; $DB_PASSWORD .= 'not an assignment';",
        '',
      ].join('\n'),
    )
    if (need('php')) {
      expect(await lint(r.after)).toBeUndefined()
      const out = execFileSync('php', [
        '-r',
        `$CFG = new stdClass; ${r.after.slice(6)} echo DB_PASSWORD, "|", $cfg["DB_PASSWORD"], "|", $DB_PASSWORD;`,
      ]).toString()
      expect(out).toBe(`${value}|${value}|${value}not an assignment`)
    }
    expect(
      (
        await planText(
          phpStep,
          r.after,
          opts({ set: { DB_PASSWORD: value, port: '5433', 'CFG->dbpass': 'p' } }),
        )
      ).edits,
    ).toEqual([])
  })

  it('writes a secret as a sensitive edit that names the secret and its encoding', async () => {
    const r = await planText(
      phpStep,
      "<?php define('DB_PASSWORD', 'old');\n",
      opts({ set: { DB_PASSWORD: { secret: 'PW' } } }),
      context({ secrets: { PW: "zq's" } }),
    )
    expect(r.edits).toEqual([
      expect.objectContaining({
        text: "zq\\'s",
        secret: { name: 'PW', encoding: ['php-single'] },
        sensitive: true,
        rule: 'set.DB_PASSWORD',
      }),
    ])
    expect(r.edits[0]!.summary).not.toContain('zq')
  })

  it('warns when a set key is assigned an expression or not at all, and lets set win over address rules', async () => {
    const src = "<?php define('DB_HOST', '10.0.10.48'); $x = ['DB_NAME' => 'fin' . $suffix];\n"
    const r = await planText(
      phpStep,
      src,
      opts({ addresses: 'names', set: { DB_HOST: 'db.local', DB_NAME: 'y', MISSING: 'z' } }),
    )
    expect(r.after).toBe(
      "<?php define('DB_HOST', 'db.local'); $x = ['DB_NAME' => 'fin' . $suffix];\n",
    )
    expect(r.diagnostics.map((d) => [d.code, d.severity])).toEqual([
      ['SET_NOT_LITERAL', 'warning'],
      ['SET_NOT_FOUND', 'warning'],
    ])
  })
})

describe('php step on the real corpus', () => {
  const files = corpusFiles('php')

  it.each(files.map((f) => [f.name, f] as const))(
    '%s tokenizes losslessly and plans no edit without rules',
    async (_n, f) => {
      const tokens = await tokenizePhp(f.text)
      expect(tokens.map((t) => t.text).join('')).toBe(f.text)
      const doc = await parsePhp(f.text)
      for (const p of doc.parts) expect(p.start <= p.end && p.end <= f.text.length).toBe(true)
      const r = await planText(
        phpStep,
        f.text,
        opts({ addresses: 'names', variants: ['routing-keys'] }),
      )
      expect(r.after).toBe(f.text)
    },
  )

  const edit = async (name: string, o: PhpOptions) => {
    const f = files.find((x) => x.name === name)!
    const r = await planText(phpStep, f.text, o)
    if (need('php')) expect(await lint(r.after)).toBeUndefined()
    return changedLines(f.text, r.after)
  }

  it('sets the DB host of wp-config-sample.php on exactly its line, keeping CRLF', async () => {
    expect(
      await edit(
        'wordpress_wp-config-sample.php',
        opts({ set: { DB_HOST: 'finance.thehumanjourney.net' } }),
      ),
    ).toEqual([
      [
        32,
        "define( 'DB_HOST', 'localhost' );\r",
        "define( 'DB_HOST', 'finance.thehumanjourney.net' );\r",
      ],
    ])
  })

  it('sets Nextcloud dbhost and rewrites an address in a literal, not the ones in comments', async () => {
    expect(
      await edit(
        'nextcloud_config.sample.php',
        opts({
          set: { dbhost: 'finance.thehumanjourney.net' },
          replace: { '127.0.0.1': 'smtp.thehumanjourney.net' },
        }),
      ),
    ).toEqual([
      [30, '"dbhost" => "",', '"dbhost" => "finance.thehumanjourney.net",'],
      [109, '"mail_smtphost" => "127.0.0.1",', '"mail_smtphost" => "smtp.thehumanjourney.net",'],
    ])
  })

  it("rewrites Laravel env() defaults and Moodle's $CFG->dbhost", async () => {
    const laravel = await edit(
      'laravel_config_database.php',
      opts({ replace: { '127.0.0.1': 'db.internal' } }),
    )
    expect(laravel.length).toBeGreaterThanOrEqual(3)
    for (const [, before, after] of laravel)
      expect(after).toBe(before.replace('127.0.0.1', 'db.internal'))
    expect(laravel.map(([, b]) => b.trim())).toContain("'host' => env('DB_HOST', '127.0.0.1'),")
    const moodle = await edit(
      'moodle_config-dist.php',
      opts({ set: { 'CFG->dbhost': 'finance.thehumanjourney.net' } }),
    )
    expect(moodle).toEqual([
      [
        expect.any(Number),
        expect.stringContaining("$CFG->dbhost    = 'localhost';"),
        expect.stringContaining("$CFG->dbhost    = 'finance.thehumanjourney.net';"),
      ],
    ])
  })
})

describe('php-lint validator', () => {
  it('accepts valid PHP and names the target in the error of invalid PHP', async () => {
    if (!need('php')) return
    expect(await phpLint.available!()).toBe(true)
    expect(await lint("<?php echo 'ok';\n")).toBeUndefined()
    const msg = await lint("<?php echo 'ok\n")
    expect(msg).toMatch(/^php -l: .*c\.php/)
    expect(msg).not.toContain(tmpdir())
  })

  it('says so when the php on the PATH cannot be started', async () => {
    // an executable php whose interpreter is missing: found, then refused by the kernel
    const bin = tempDir('cutover-phppath-')
    writeFileSync(join(bin, 'php'), '#!/nonexistent/cutover-no-interpreter\n', { mode: 0o755 })
    const saved = process.env.PATH
    try {
      process.env.PATH = bin
      expect(await phpLint.available!()).toBe(true)
      expect(await lint("<?php echo 'ok';\n")).toBe(
        'php -l: php is on the PATH but could not be started (ENOENT)',
      )
      const dir = tempDir('cutover-phplint-')
      writeFileSync(join(dir, 'c.php'), "<?php echo 'ok';\n")
      expect(
        await phpLint.runBatch!([{ stagedPath: join(dir, 'c.php'), target: 'c.php' }]),
      ).toEqual(['php -l: php is on the PATH but could not be started (ENOENT)'])
    } finally {
      process.env.PATH = saved
    }
  })

  it('knows whether php is here from the PATH, without starting a process', async () => {
    // a php that counts its runs and fails: found, and never run to find it
    const bin = tempDir('cutover-phppath-')
    writeFileSync(join(bin, 'php'), `#!/bin/sh\necho run >> '${bin}/runs'\nexit 1\n`)
    chmodSync(join(bin, 'php'), 0o755)
    // a directory named php, and a php that is not executable, are not a php
    const dir = tempDir('cutover-phppath-')
    mkdirSync(join(dir, 'php'))
    const plain = tempDir('cutover-phppath-')
    writeFileSync(join(plain, 'php'), '#!/bin/sh\n', { mode: 0o644 })
    const saved = process.env.PATH
    try {
      process.env.PATH = `${dir}:${plain}`
      expect(await hasPhp()).toBe(false)
      expect(await phpLint.available!()).toBe(false)
      process.env.PATH = `${dir}:${plain}:${bin}`
      expect(await hasPhp()).toBe(true)
    } finally {
      process.env.PATH = saved
    }
    expect(existsSync(join(bin, 'runs'))).toBe(false)
  })
})
