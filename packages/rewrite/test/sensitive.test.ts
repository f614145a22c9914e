import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyEdits, type Edit } from '../src/index.js'
import {
  credentialSpans,
  maskToolMessage,
  maskedHash,
  sensitiveLines,
  sensitiveSpans,
  tokenSpans,
  type Span,
} from '../src/diff/sensitive.js'

const slices = (text: string, spans: readonly Span[]) =>
  spans.map((s) => text.slice(s.start, s.end))

describe('sensitiveSpans', () => {
  it('finds the old value in the first text and the written one in the last, across passes', () => {
    const text = "host = '10.0.10.48'; pass = 'Summer2019!'; x = '10.0.10.48'\n"
    // pass 0 renames both addresses (shifting what follows); pass 1 writes the secret
    const pass0: Edit[] = [
      { start: 8, end: 18, text: 'db.example.org', rule: 'addresses' },
      { start: 49, end: 59, text: 'db.example.org', rule: 'addresses' },
    ]
    const mid = applyEdits(text, pass0)
    const at = mid.indexOf('Summer2019!')
    const pass1: Edit[] = [
      {
        start: at,
        end: at + 11,
        text: 'n3w',
        rule: 'set.pass',
        secret: { name: 'PW', encoding: ['raw'] },
      },
    ]
    // pass 2 edits after it: the written span moves with the text before it
    const after1 = applyEdits(mid, pass1)
    const pass2: Edit[] = [{ start: 0, end: 4, text: 'hostname', rule: 'replace' }]
    const final = applyEdits(after1, pass2)
    const s = sensitiveSpans(text, [pass0, pass1, pass2])
    expect(slices(text, s.before)).toEqual(['Summer2019!'])
    expect(slices(final, s.after)).toEqual(['n3w'])
    expect(s.old).toEqual(['Summer2019!'])
    expect(s.written).toEqual(['n3w'])
  })

  it('grows a span that a later edit cuts into, and finds an old value an earlier pass wrote', () => {
    const text = 'a=OLD b\n'
    const pass0: Edit[] = [{ start: 2, end: 5, text: 'MID', rule: 'replace' }]
    const pass1: Edit[] = [{ start: 2, end: 5, text: 'NEW', rule: 'set.a', sensitive: true }]
    const pass2: Edit[] = [{ start: 3, end: 7, text: 'XXXXX', rule: 'replace' }]
    const final = applyEdits(applyEdits(applyEdits(text, pass0), pass1), pass2)
    const s = sensitiveSpans(text, [pass0, pass1, pass2])
    expect(s.old).toEqual(['MID'])
    expect(slices(text, s.before)).toEqual(['OLD'])
    expect(slices(final, s.after)).toEqual(['NXXXXX'])
  })

  it('is empty without sensitive edits, and keeps insertions beside a span outside it', () => {
    expect(sensitiveSpans('x', [[{ start: 0, end: 1, text: 'y', rule: 'r' }]])).toEqual({
      before: [],
      after: [],
      old: [],
      written: [],
    })
    const text = "host=h dbname=d'"
    const pass: Edit[] = [
      { start: 14, end: 14, text: ' password=', rule: 'passwords' },
      {
        start: 14,
        end: 14,
        text: 's3',
        rule: 'passwords',
        secret: { name: 'PW', encoding: ['conninfo'] },
        sensitive: true,
      },
    ]
    const s = sensitiveSpans(text, [pass, [{ start: 14, end: 14, text: '!', rule: 'r' }]])
    expect(
      slices(
        applyEdits(applyEdits(text, pass), [{ start: 14, end: 14, text: '!', rule: 'r' }]),
        s.after,
      ),
    ).toEqual(['s3'])
    expect(s.before).toEqual([])
  })
})

describe('credentialSpans', () => {
  const cases: Array<[string, string[], string?]> = [
    ["$CFG->dbpass = 'pw1';", ['pw1']],
    ['define(\'DB_PASSWORD\', "pw2");', ['pw2']],
    ["    'password' => 'pw3',", ['pw3']],
    ['  "api_key": "k\\"ey",', ['k\\"ey']],
    ['SECRET_TOKEN=abc def # note', ['abc def']],
    ['db_password = two words ; comment', ['two words']],
    ['host=h user=u password=pw4 dbname=d', ['pw4']],
    ["dsn = 'pgsql:host=h;password=pw5'", ['pw5']],
    ['url: postgres://u:pw6@h/db', ['pw6']],
    ['   password: "unterminated', ['unterminated']],
    ['h:5432:db:u:p\\:w7', ['p\\:w7'], 'home/u/.pgpass'],
    ['# h:5432:db:u:pw', [], 'home/u/.pgpass'],
    ["$pass = getenv('X');", []],
    ['$password = $other;', []],
    ['bypass = 10.0.10.48', []],
    ['www-data ALL=(finance) NOPASSWD: /usr/local/bin/pull', []],
    ['passwd:         files systemd', []],
    ['  proxy_pass: http://10.0.10.48:8080', []],
    ['db_passwd: pw8', ['pw8']],
    ['password = ; SMTP password', []],
    ["    new.pass = crypt(new.pass, gen_salt('bf'));", []],
    ["'agent':17 'secret':16 'victori':2", []],
    ['host = 10.0.10.48', []],
    ['version = 1.2.3', []],
    // a PHP array element (CodeIgniter's database.php), a userinfo password holding a raw @
    ["$db['default']['password'] = 'pw9';", ['pw9']],
    ['$config["db_pass"]="pw10";', ['pw10']],
    ["$a['password'] == 'x' && $b['k'] = 1;", []],
    ['url = https://user:p@ss@host/x and a@b', ['p@ss']],
    ["$cfg['Servers'][$i]['AllowNoPassword'] = false;", []],
    ["$config['oauth_client_secret'] = null;", []],
    // a doubled quote is part of the value (YAML, SQL)
    ["password: 'it''s' # c", ["it''s"]],
    ["$x = ['password' => '', 'user' => 'u'];", []],
  ]
  it.each(cases)('%s', (line, values, path) => {
    expect(slices(line, credentialSpans(line, path))).toEqual(values)
  })

  it('takes the values of the keys it is given too', () => {
    expect(slices("$pw = 'a' 'b';", credentialSpans("$pw = 'a' 'b';", '', ['pw']))).toEqual(['a'])
    expect(
      slices(
        "define('MOODLE_KEY', 'y') +;",
        credentialSpans("define('MOODLE_KEY', 'y') +;", '', ['MOODLE_KEY']),
      ),
    ).toEqual(['y'])
    expect(
      slices('"pw": "x", "other": "y"', credentialSpans('"pw": "x", "other": "y"', '', ['pw'])),
    ).toEqual(['x'])
  })
})

describe('tokenSpans and maskedHash', () => {
  it('finds a value only as a whole word', () => {
    expect(
      slices(
        '/var/www/moodle/x moodledata',
        tokenSpans('/var/www/moodle/x moodledata', ['moodle']),
      ),
    ).toEqual(['moodle'])
    expect(tokenSpans('version e', ['e'])).toEqual([{ start: 8, end: 9 }])
  })
  it('hides the masked values but still sees every other change, and the encoding', () => {
    const h = (t: string, enc = 'utf8') =>
      maskedHash(t, [{ start: 3, end: 6 }], ['OLD'], 'salt', enc)
    expect(h('pw=OLD; OLD')).toBe(h('pw=NEW; OLD'))
    expect(h('pw=OLD; OLD')).not.toBe(h('pw=OLD; OLX'))
    expect(h('pw=OLD; OLD')).not.toBe(h('pw=OLD; OLD', 'latin1'))
    expect(h('pw=OLD; OLD')).not.toBe(
      maskedHash('pw=OLD; OLD', [{ start: 3, end: 6 }], ['OLD'], 'other', 'utf8'),
    )
  })
})

describe('sensitiveSpans, property', () => {
  // random edits inside [from, to) of a text of length n: sorted, not overlapping
  const editsIn = (from: number, to: number) =>
    fc
      .array(
        fc.record({
          at: fc.nat(),
          len: fc.nat({ max: 3 }),
          text: fc.constantFrom('', 'x', 'yy', '10.0.10.48', 'name.example'),
        }),
        { maxLength: 4 },
      )
      .map((raw) => {
        const out: Edit[] = []
        let min = from
        for (const r of raw
          .map((r) => ({ ...r, at: from + (to > from ? r.at % (to - from + 1) : 0) }))
          .sort((a, b) => a.at - b.at)) {
          const start = Math.max(r.at, min)
          const end = Math.min(start + r.len, to)
          if (start > to || (start === end && r.text === '')) continue
          out.push({ start, end, text: r.text, rule: 'r' })
          min = end + 1
        }
        return out
      })

  it('the written span holds exactly the secret, the old span exactly the old value, whatever edits surround them', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 2, maxLength: 40 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom('s', 'n3w-pw', "it's"),
        fc.integer(),
        fc.integer(),
        (text, a0, b0, secret, seed0, seed2) => {
          const a = a0 % text.length
          const b = a + 1 + (b0 % (text.length - a))
          const old = text.slice(a, b)
          const pass0 = fc
            .sample(editsIn(0, Math.max(0, a - 1)), { seed: seed0, numRuns: 1 })[0]!
            .concat(
              fc.sample(editsIn(Math.min(text.length, b + 1), text.length), {
                seed: seed0 + 1,
                numRuns: 1,
              })[0]!,
            )
          const mid = applyEdits(text, pass0)
          const shift = pass0
            .filter((e) => e.end <= a)
            .reduce((d, e) => d + e.text.length - (e.end - e.start), 0)
          const pass1: Edit[] = [
            {
              start: a + shift,
              end: b + shift,
              text: secret,
              rule: 'set',
              secret: { name: 'PW', encoding: ['raw'] },
            },
          ]
          const out1 = applyEdits(mid, pass1)
          const s1 = a + shift
          const e1 = s1 + secret.length
          const pass2 = fc
            .sample(editsIn(0, Math.max(0, s1 - 1)), { seed: seed2, numRuns: 1 })[0]!
            .concat(
              fc.sample(editsIn(Math.min(out1.length, e1 + 1), out1.length), {
                seed: seed2 + 1,
                numRuns: 1,
              })[0]!,
            )
          const final = applyEdits(out1, pass2)
          const s = sensitiveSpans(text, [pass0, pass1, pass2])
          expect(slices(text, s.before)).toEqual([old])
          expect(slices(final, s.after)).toEqual([secret])
          // a secret written over itself replaces no old value
          expect(s.old).toEqual(old === secret ? [] : [old])
        },
      ),
      { numRuns: 300 },
    )
  })
})

describe('maskToolMessage', () => {
  const file = 'Cmnd_Alias PG = /usr/bin/psql -W s3 !\nx = 1\nAB = "a\nb-x"\n'
  const after = [
    { start: file.indexOf('s3'), end: file.indexOf('s3') + 2 },
    { start: file.indexOf('a\nb'), end: file.indexOf('a\nb') + 3 },
  ]

  it('hides a quoted line of the file by position and keeps a caret under the same text', () => {
    const lines = sensitiveLines(file, after)
    expect([...lines]).toEqual([
      ['Cmnd_Alias PG = /usr/bin/psql -W s3 !', [{ start: 33, end: 35 }]],
      ['AB = "a', [{ start: 6, end: 7 }]],
      ['b-x"', [{ start: 0, end: 1 }]],
    ])
    const msg =
      'etc/x:1:36: syntax error\nCmnd_Alias PG = /usr/bin/psql -W s3 !\n                                    ^~\n'
    expect(maskToolMessage(msg, { values: [], lines, keep: [] })).toBe(
      'etc/x:1:36: syntax error\nCmnd_Alias PG = /usr/bin/psql -W (sensitive) !\n                                             ^~\n',
    )
    // a caret inside the value moves to its mask
    expect(
      maskToolMessage(
        'Cmnd_Alias PG = /usr/bin/psql -W s3 !\n                                  ^~~',
        { values: [], lines, keep: [] },
      ),
    ).toBe(
      'Cmnd_Alias PG = /usr/bin/psql -W (sensitive) !\n                                 ^~~~~~~~~~~~~',
    )
  })

  it("hides values as words, credentials and a cut token that ends with a value's start, never the paths it keeps", () => {
    const mask = {
      values: ['moodle', 'e', 'LongSecretValue'],
      lines: new Map(),
      keep: ['var/www/moodle/config.php'],
    }
    expect(
      maskToolMessage(
        'Parse error: unexpected "moodle" in var/www/moodle/config.php on line 3 (e)',
        mask,
      ),
    ).toBe(
      'Parse error: unexpected "(sensitive)" in var/www/moodle/config.php on line 3 ((sensitive))',
    )
    expect(maskToolMessage('unexpected string "h=db LongSec..." at x', mask)).toBe(
      'unexpected string "h=db (sensitive)..." at x',
    )
    expect(maskToolMessage('unexpected string "host=db password=LongSec..." at x', mask)).toBe(
      'unexpected string "host=db password=(sensitive)" at x',
    )
    expect(maskToolMessage('unexpected string "0123456789012345678901234Lo..."', mask)).toBe(
      'unexpected string "0123456789012345678901234(sensitive)..."',
    )
    expect(maskToolMessage('a line with token=t0k3n', mask)).toBe('a line with token=(sensitive)')
  })
})
