import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { iniStep, parseIni, type IniOptions } from '../src/index.js'
import { changedLines, financeContext as context, corpusFiles, planText } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

const opts = (o: Partial<IniOptions>): IniOptions => ({ files: ['x'], ...o })

const MY_CNF = [
  '# old primary 10.0.10.48',
  '[client]',
  'host = 10.0.10.48 ; inline comment 10.0.10.48',
  'password = "old;pw"',
  '[mysqld]',
  'bind-address\t= 10.0.10.48\r',
  'skip-name-resolve',
  '10.0.10.48 = key not value',
  '!includedir /etc/mysql/conf.d/',
  '[10.0.10.48]',
  "report-host = '10.0.10.480'",
  '',
].join('\n')

describe('ini step', () => {
  it('rewrites values only: never comments, keys or section names', async () => {
    const r = await planText(iniStep, MY_CNF, opts({ addresses: 'names' }))
    expect(changedLines(MY_CNF, r.after)).toEqual([
      [
        3,
        'host = 10.0.10.48 ; inline comment 10.0.10.48',
        'host = finance.thehumanjourney.net ; inline comment 10.0.10.48',
      ],
      [6, 'bind-address\t= 10.0.10.48\r', 'bind-address\t= finance.thehumanjourney.net\r'],
    ])
    expect(r.leftovers.map((l) => l.reason)).toEqual([
      'old address: inside a comment',
      'old address: inside a comment',
      'old address: a key or section name, not a value',
      'old address: a key or section name, not a value',
      'near-miss: "10.0.10.48" inside "10.0.10.480" is not rewritten',
    ])
    expect((await planText(iniStep, r.after, opts({ addresses: 'names' }))).edits).toEqual([])
  })

  it('sets section.key values, quoting and escaping when needed, every occurrence', async () => {
    const src =
      'top=1\n[client]\npassword = "old;pw"\nuser =\nport = 3306\n[client]\nport=3307\n[mysqld]\nport = 1\nskip\n'
    const r = await planText(
      iniStep,
      src,
      opts({
        set: {
          top: '2',
          'client.password': 'n"e\\w',
          'client.user': 'app;x',
          'client.port': '5432',
          'mysqld.skip': 'x',
          'nope.x': 'y',
        },
      }),
    )
    expect(r.after).toBe(
      'top=2\n[client]\npassword = "n\\"e\\\\w"\nuser = "app;x"\nport = 5432\n[client]\nport=5432\n[mysqld]\nport = 1\nskip\n',
    )
    expect(r.diagnostics.map((d) => d.code)).toEqual(['SET_NO_VALUE', 'SET_NOT_FOUND'])
    const never = await planText(
      iniStep,
      'host=\npassword=a\n',
      opts({ quote: 'never', set: { host: 'db', password: { secret: 'PW' } } }),
      context({ secrets: { PW: 'p;w#' } }),
    )
    expect(never.after).toBe('host=db\npassword=p;w#\n')
    expect(never.edits.find((e) => e.secret)).toMatchObject({
      secret: { name: 'PW', encoding: ['raw'] },
      sensitive: true,
    })
  })
})

describe('ini step on .env files', () => {
  const ENV =
    '# app\nDB_HOST=10.0.10.48\nexport DB_PASSWORD="old pw"\nexport\tREDIS_URL=redis://10.0.10.48:6379/0 # was 10.0.10.48\nAPP_NAME=finance\n'

  it('plans KEY=value and export KEY=value lines: values, and set by the variable name', async () => {
    const r = await planText(
      iniStep,
      ENV,
      opts({ addresses: 'names', set: { DB_PASSWORD: { secret: 'PW' }, APP_NAME: 'finance-new' } }),
      context({ secrets: { PW: 'n3w "pw"' } }),
    )
    expect(r.diagnostics).toEqual([])
    expect(r.after).toBe(
      '# app\nDB_HOST=finance.thehumanjourney.net\nexport DB_PASSWORD="n3w \\"pw\\""\nexport\tREDIS_URL=redis://finance.thehumanjourney.net:6379/0 # was 10.0.10.48\nAPP_NAME=finance-new\n',
    )
    expect(parseIni(ENV).entries.map((e) => e.key)).toEqual([
      'DB_HOST',
      'DB_PASSWORD',
      'REDIS_URL',
      'APP_NAME',
    ])
    // the shell reads the rewritten file as the values meant
    const file = join(tempDir('cutover-env-'), '.env')
    writeFileSync(file, r.after)
    const out = execFileSync(
      'sh',
      [
        '-c',
        'set -a; . "$1"; printf "%s|%s|%s" "$DB_HOST" "$DB_PASSWORD" "$REDIS_URL"',
        'sh',
        file,
      ],
      { encoding: 'utf8' },
    )
    expect(out).toBe(
      'finance.thehumanjourney.net|n3w "pw"|redis://finance.thehumanjourney.net:6379/0',
    )
  })

  it("set writes values holding ', $, `, \\ and blanks so that sh reads them back (a '…' value becomes \"…\")", async () => {
    const src = "A='old'\nexport B='old'\nC=\"old\"\nD=old\nE='keep'\n"
    const values = { A: "it's", B: { secret: 'PW' }, C: 'a$HOME`id`\\"q"', D: 'two words; $X #no' }
    const pw = 'p\'w $1 "x"'
    const r = await planText(
      iniStep,
      src,
      opts({ set: values }),
      context({ secrets: { PW: pw } }),
      'srv/app/.env',
    )
    expect(r.diagnostics).toEqual([])
    const file = join(tempDir('cutover-env-'), '.env')
    writeFileSync(file, r.after)
    const out = execFileSync(
      'sh',
      ['-c', 'set -a; . "$1"; printf "%s|" "$A" "$B" "$C" "$D" "$E"', 'sh', file],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/home/x', X: 'x' },
      },
    )
    expect(out).toBe(`it's|${pw}|a$HOME\`id\`\\"q"|two words; $X #no|keep|`)
    // planned again, the file already holds every value: the secret is only marked where it is (written again as it is)
    const again = (
      await planText(
        iniStep,
        r.after,
        opts({ set: values }),
        context({ secrets: { PW: pw } }),
        'srv/app/.env',
      )
    ).edits
    expect(
      again.map((e) => ({
        rule: e.rule,
        same: r.after.slice(e.start, e.end) === e.text,
        secret: e.secret?.name,
      })),
    ).toEqual([{ rule: 'set.B', same: true, secret: 'PW' }])
    // php.ini has no way to write ' inside '…': refused, not garbled
    const ini = await planText(
      iniStep,
      "a = 'old'\n",
      opts({ set: { a: "it's" } }),
      context(),
      'etc/php.ini',
    )
    expect([ini.after, ini.diagnostics.map((d) => d.code)]).toEqual(["a = 'old'\n", ['SET_UNSAFE']])
  })

  it('keeps a key that only starts with export', async () => {
    expect(parseIni('exported=1\nexport a b=2\n').entries.map((e) => e.key)).toEqual([
      'exported',
      'export a b',
    ])
  })
})

describe('ini step on the real corpus', () => {
  const files = corpusFiles('ini')
  it('has the corpus files (an empty folder would register no test below)', () =>
    expect(files.length).toBeGreaterThanOrEqual(20))

  it.each(files.map((f) => [f.name, f] as const))(
    '%s: lines concatenate to the file and an empty plan changes nothing',
    async (_n, f) => {
      const doc = parseIni(f.text)
      expect(doc.lines.map((l) => f.text.slice(l.start, l.end)).join('')).toBe(f.text)
      for (const e of doc.entries)
        expect(e.value.start >= e.keySpan.end && e.value.end <= f.text.length).toBe(true)
      const r = await planText(
        iniStep,
        f.text,
        opts({ addresses: 'names', variants: ['routing-keys'] }),
      )
      expect(r.after).toBe(f.text)
    },
  )

  const edit = async (name: string, o: IniOptions, text?: string) => {
    const f = files.find((x) => x.name === name)!
    const r = await planText(iniStep, text ?? f.text, o)
    return changedLines(text ?? f.text, r.after)
  }

  it("sets Matomo's database.host, php.ini's mysqli.default_host and my.cnf's socket on exactly their lines", async () => {
    expect(
      await edit(
        'matomo_global.ini.php',
        opts({ set: { 'database.host': 'finance.thehumanjourney.net' } }),
      ),
    ).toEqual([[15, 'host =', 'host = finance.thehumanjourney.net']])
    expect(
      await edit(
        'php-src_php.ini-production',
        opts({ set: { 'MySQLi.mysqli.default_host': 'finance.thehumanjourney.net' } }),
      ),
    ).toEqual([
      [1192, 'mysqli.default_host =', 'mysqli.default_host = finance.thehumanjourney.net'],
    ])
    expect(
      await edit(
        'mysql_docker-library_mysqld.cnf',
        opts({ set: { 'mysqld.socket': '/run/mysqld/mysqld.sock' } }),
      ),
    ).toEqual([
      [
        24,
        'socket          = /var/run/mysqld/mysqld.sock',
        'socket          = /run/mysqld/mysqld.sock',
      ],
    ])
  })

  it('pg_service.conf.sample: comments stay; with its template service enabled, one line changes', async () => {
    const f = files.find((x) => x.name === 'postgres_pg_service.conf.sample')!
    expect(await edit(f.name, opts({ set: { 'template1.dbname': 'finance' } }))).toEqual([])
    const enabled = f.text.replace(
      '#[template1]\n#dbname=template1\n',
      '[template1]\ndbname=template1\n',
    )
    expect(enabled).not.toBe(f.text)
    const changed = await edit(
      f.name,
      opts({ quote: 'never', set: { 'template1.dbname': 'finance' } }),
      enabled,
    )
    expect(changed).toEqual([[expect.any(Number), 'dbname=template1', 'dbname=finance']])
  })
})
