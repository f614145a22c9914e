import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyEdits, type Edit } from '../src/edit/edit.js'
import {
  credentialSpans,
  editedCredentialSpans,
  fileCredentialSpans,
  lineCredentialSpans,
  merge,
  type Span,
} from '../src/diff/sensitive.js'

/** Every line of the text read, as before the prefilter: the meaning the fast path must keep. */
function everyLine(text: string, path: string): Span[] {
  const out: Span[] = []
  for (let start = 0; start <= text.length;) {
    const nl = text.indexOf('\n', start)
    const end = nl === -1 ? text.length : nl
    const line = text.slice(start, end)
    for (const s of credentialSpans(line, path))
      out.push({ start: start + s.start, end: start + s.end })
    if (nl === -1) break
    start = nl + 1
  }
  return out
}

// key names a credential in every way the normalization reads one (case, separators, the two
// characters outside ASCII that lower-case to a-z), names that only end like one, and noise
const pieces = [
  'password',
  'PassWord',
  'db_pass',
  'p-a.s_s',
  "'p a s s'",
  'P\u00e4SS',
  'pa\u00e9ss',
  'secret',
  'SECRET_KEY',
  's.e.c.r.e.t',
  'token',
  'to\u212Aen',
  'TOKEN',
  'api_key',
  'ap\u0130key',
  '"ap\u0130key"',
  "'to\u212Aen'",
  '"P-A_S-S"',
  'API-KEY',
  'apikey',
  'passwd',
  'nopasswd',
  'proxy_pass',
  'bypass',
  '$CFG->dbpass',
  "$db['default']['password']",
  "define('DB_PASSWORD', ",
  'postgres://u:',
  'amqp://app:pw@',
  'https://',
  ':/',
  '@host',
  '=',
  ' = ',
  ':',
  ': ',
  '=>',
  '::',
  ':=',
  "'Summer2019!'",
  '"x y"',
  'value',
  '10.0.10.48',
  ' ',
  '\t',
  '\r',
  '\n',
  '\n',
  '#',
  ';',
  '\u00e9',
  '\u{1F600}',
  // what opens or goes on with a value on later lines: block headers, a final backslash,
  // indentation, a define's parts, a plain scalar's text, a mapping entry
  ' |',
  ': >-',
  '\\',
  '  ',
  '- ',
  'define(',
  "'DB_PASSWORD',",
  ', ',
  's3cret',
  'k: v',
  // a quote a value opens and a later line closes
  "'",
  '"',
]
// short lines, so that a line's only hint is often the one under test
const line = fc.array(fc.constantFrom(...pieces), { maxLength: 6 }).map((a) => a.join(''))
const text = fc
  .tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom('\n', '\r\n'))
  .map(([lines, eol]) => lines.join(eol))

describe('fileCredentialSpans', () => {
  it('finds what reading every line finds (the lines it skips cannot hold a credential)', () => {
    fc.assert(
      fc.property(text, fc.constantFrom('config.php', '.env', 'app/.pgpass', 'pgpass'), (t, p) => {
        expect(fileCredentialSpans(t, p).filter((s) => !s.continued)).toEqual(everyLine(t, p))
      }),
      { numRuns: 3000 },
    )
  })

  it('reads a key whose letters are split or cased as the normalization allows', () => {
    const t = `x = 1\n"to\u212Aen": "abc"\n'ap\u0130key' => 'k1'\n"P-A_S-S": "hunter2"\n`
    const got = fileCredentialSpans(t, 'a.conf').map((s) => t.slice(s.start, s.end))
    expect(got).toEqual(['abc', 'k1', 'hunter2'])
    expect(fileCredentialSpans(t, 'a.conf')).toEqual(everyLine(t, 'a.conf'))
  })

  it('reads every line of a .pgpass file, which has no key names', () => {
    const t = 'db:5432:app:alice:s3cret\n# host:port:db:user:pw\nh:*:*:bob:pw2'
    const got = fileCredentialSpans(t, '/root/.pgpass').map((s) => t.slice(s.start, s.end))
    expect(got).toEqual(['s3cret', 'pw2'])
  })
})

describe('values on a later line than their key', () => {
  const cases: Array<[string, string, string[]]> = [
    ['{\n  "password":\n    "pw1",\n  "x": 1\n}', 'a.json', ['pw1']],
    ['"password":\n\n  "pw2"', '', ['pw2']],
    ["$password =\n  'pw3';", 'a.php', ['pw3']],
    ["$CFG->dbpass =\n    'pw4';", 'config.php', ['pw4']],
    ["$a = ['password' =>\n  'pw5'];", 'a.php', ['pw5']],
    ["define(\n  'DB_PASSWORD',\n  'pw6'\n);", 'wp-config.php', ['pw6']],
    ["define('DB_PASSWORD',\n  'pw7');", 'wp-config.php', ['pw7']],
    ["define(\n  'DB_PASSWORD', 'pw8');", 'wp-config.php', ['pw8']],
    ['password:\n  pw9\nuser: u', 'a.yml', ['pw9']],
    ['- password:\n    pw10 pw11\n    pw12 # note\n  user: u', 'a.yml', ['pw10 pw11', 'pw12']],
    ['token: |\n  line1\n\n  line2\nnext: n', 'a.yaml', ['|', 'line1', 'line2']],
    ['secret: >-\r\n  pw13\r\n  pw14\r\nnext: n', 'a.yaml', ['>-', 'pw13', 'pw14']],
    [
      'password: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6231',
      'vars',
      ['!vault |', '$ANSIBLE_VAULT;1.1;AES256', '6231'],
    ],
    ['password: pw15\n  pw16\nx: 1', 'a.yaml', ['pw15', 'pw16']],
    ['[db]\npassword =\n  pw17\n  pw18\nhost = h', 'a.ini', ['pw17', 'pw18']],
    ['password = pw19\\\n  pw20\\\n  pw21\nhost = h', 'a.conf', ['pw19\\', 'pw20\\', 'pw21']],
    // a quoted value that goes on over lines (PHP, YAML), to its closing quote
    ["$password = 'pw23\n  pw24\\' pw25\n';\n$x = 'y';", 'a.php', ['pw23', "pw24\\' pw25"]],
    ['define(\'DB_PASSWORD\', "pw26\n\npw27");', 'wp-config.php', ['pw26', 'pw27']],
    ["$db['password'] = '\r\n  pw28 ''x''\r\n';", 'a.php', ['\r', "pw28 ''x''"]],
    ['password: "pw29\n  pw30"\nuser: u', 'a.yaml', ['pw29', 'pw30']],
    // not in another format, not from a comment, nor a key inside the value
    ["password = 'pw31\n  x'", 'a.conf', ['pw31']],
    ["// $password = 'your password\n$x = 'y';", 'a.php', ['your password']],
    ["$password = 'pw32\n$token = 'z\n';", 'a.php', ['pw32', '$token = ', 'z']],
    // no credential: a mapping, a sequence, a comment, a keyword, JSON's number, a call, a
    // variable, a line no more indented than the key, a value on the key's line in another format
    ['password:\n  min_length: 8', 'a.yaml', []],
    ['password:\n  - a\n  - b', 'a.yaml', []],
    ['password:\n  # c', 'a.yaml', []],
    ['password:\n  null', 'a.yaml', []],
    ['"password":\n  null,\n"token":\n  16', 'a.json', []],
    ["$pass =\n  getenv('X');\n$password =\n  $other;", 'a.php', []],
    ['password:\nhost: h', 'a.yaml', []],
    ['password = pw22\n  other', 'a.conf', ['pw22']],
    ['www-data ALL=(ALL) NOPASSWD:\n  /bin/x', 'sudoers', []],
    ['passwd:\n  files', 'nsswitch.conf', []],
    ["$form->addElement('password',\n  'password', 'x');", 'a.php', []],
  ]
  it.each(cases)('%j (%s)', (t, path, values) => {
    expect(fileCredentialSpans(t, path).map((s) => t.slice(s.start, s.end))).toEqual(values)
  })
})

describe('a value whose lines hold more keys', () => {
  // each line of a long value is read once, not again for every key in it (that was quadratic:
  // 2,000 lines of `password=a\` gave 2,003,000 spans in 6 s, 20,000 ran out of memory)
  const lines = (t: string, path: string) => {
    const spans = fileCredentialSpans(t, path).filter((s) => s.continued)
    return { spans: spans.length, lines: new Set(spans.map((s) => s.start)).size }
  }
  it('a backslash continuation whose every line is a key', () => {
    const t = Array.from({ length: 2000 }, (_, i) => `password=a${i}\\`).join('\n') + '\nend\nx=1'
    expect(lines(t, 'a.conf')).toEqual({ spans: 2000, lines: 2000 })
    // the spans of every line, as before
    expect(merge(fileCredentialSpans(t, 'a.conf')).map((s) => t.slice(s.start, s.end))).toEqual([
      'a0\\',
      ...Array.from({ length: 1999 }, (_, i) => `password=a${i + 1}\\`),
      'end',
    ])
  })
  it('block scalars inside a block scalar', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}token: |`)
    const text = Array.from({ length: 1000 }, (_, i) => `${' '.repeat(300)}t${i}`)
    const t = [...keys, ...text, 'next: n'].join('\n')
    expect(lines(t, 'a.yaml')).toEqual({ spans: 1299, lines: 1299 })
  })
  it('plain values inside a plain value (INI continuation lines)', () => {
    const t = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}password = p${i}`).join('\n')
    expect(lines(t, 'a.ini')).toEqual({ spans: 299, lines: 299 })
  })
})

describe('lineCredentialSpans', () => {
  it('finds on one line what credentialSpans finds (the lines it skips cannot hold a credential)', () => {
    const one = fc
      .array(fc.constantFrom(...pieces.filter((p) => !p.includes('\n'))), { maxLength: 8 })
      .map((a) => a.join(''))
    fc.assert(
      fc.property(
        one,
        fc.constantFrom('', 'config.php', '.env', 'app/.pgpass', 'pgpass'),
        (l, p) => {
          expect(lineCredentialSpans(l, p)).toEqual(credentialSpans(l, p))
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('skips a line without a hint, and reads every .pgpass line', () => {
    expect(lineCredentialSpans("PERFORM x('host=10.0.10.48 port=5432')")).toEqual([])
    expect(lineCredentialSpans('db_pass = hunter2').length).toBe(1)
    expect(lineCredentialSpans('db:5432:app:alice:s3cret', '.pgpass').length).toBe(1)
  })
})

describe('editedCredentialSpans', () => {
  // edits as (gap, length, new text) triples, laid out one after the other over the text
  const edits = fc.array(
    fc.tuple(fc.nat(12), fc.nat(6), fc.array(fc.constantFrom(...pieces), { maxLength: 3 })),
    { maxLength: 5 },
  )
  it('finds in the edited text what reading all of it finds', () => {
    fc.assert(
      fc.property(
        text,
        edits,
        fc.constantFrom('config.php', '.env', 'app/.pgpass', 'app.yaml', 'my.ini'),
        (t, raw, p) => {
          const list: Edit[] = []
          let at = 0
          for (const [gap, length, words] of raw) {
            const start = Math.min(t.length, at + gap)
            const end = Math.min(t.length, start + length)
            list.push({ start, end, text: words.join(''), rule: 'r' })
            at = end
          }
          const after = applyEdits(t, list)
          const before = fileCredentialSpans(t, p)
          expect(editedCredentialSpans(t, before, after, list, p)).toEqual(
            fileCredentialSpans(after, p),
          )
        },
      ),
      { numRuns: 3000 },
    )
  })

  it('finds a quoted value that an edit lets a line open, inside another quote before', () => {
    // the `"` of line 3 opened a value before the edit too (a value quoted with `'` around it is
    // not one quoted with `"`): both are read, so the edit that removes the define changes no span
    const t = `x\n"define('DB_PASSWORD', '\n\n  'password: "\n '\n   y`
    const list: Edit[] = [{ start: 2, end: 4, text: '', rule: 'r' }]
    const after = applyEdits(t, list)
    const got = editedCredentialSpans(t, fileCredentialSpans(t, 'a.php'), after, list, 'a.php')
    expect(got).toEqual(fileCredentialSpans(after, 'a.php'))
    expect(got.map((s) => after.slice(s.start, s.end))).toEqual(["'", 'y'])
  })
})
