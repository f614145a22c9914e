import {
  commonKeys,
  type CommonOptions,
  type Context,
  type Diagnostic,
  type Edit,
  type EncodingName,
  literalNeedles,
  type LiteralRegion,
  literalRules,
  outsideKeysReason,
  rewriteLiterals,
  ruleKeys,
  type RuleOptions,
  s,
  ruleFallback,
  scanLeftovers,
  setEdits,
  setSchema,
  type Encoders,
  type StepKind,
  type ValueSpec,
} from '@cutover/rewrite'
import { keyScopeAnywhere } from '../keys.js'
import { parseIni, type IniDocument, type IniEntry, type IniSpan } from './parse.js'

/** Options of the `ini` step. */
export type IniOptions = CommonOptions &
  RuleOptions & {
    /** `"section.key": value` (or `key` before any section) writes that key's value, every occurrence. */
    set?: Record<string, ValueSpec>
    /**
     * How `set` writes into an unquoted value that needs quoting (`;`, `#`, quotes, blanks):
     * `auto` adds double quotes (php.ini, my.cnf); `never` writes it as is (pg_service.conf has no quoting).
     */
    quote?: 'auto' | 'never'
  }

/** A shell environment file (`.env`, `.env.local`, `app.env`): its quoting is sh's. */
const isShellEnv = (path: string): boolean => /(^|\/)\.env[^/]*$|\.env$/.test(path)

/** The encoders of INI values between double quotes, and of sh's in a `.env` file. */
const INI_ENCODINGS: Encoders = {
  'ini-double': (v) => v.replace(/["\\]/g, '\\$&'),
  'sh-double': (v) => v.replace(/[\\"$`]/g, '\\$&'),
}

/** How a value between double quotes is escaped: sh's rules in a `.env` file, INI's otherwise. */
const doubleQuoted = (shell: boolean): EncodingName[] => (shell ? ['sh-double'] : ['ini-double'])

const encodingOf = (e: IniEntry, shell: boolean): EncodingName[] =>
  e.quote === '"' ? doubleQuoted(shell) : ['raw']

/**
 * The `ini` step (php.ini, pg_service.conf, odbc.ini, my.cnf, Matomo's global.ini.php, `.env`): rule keys
 * apply to values only, never to keys, section names or comments; `set` writes `section.key`
 * values. A line parser locates spans; nothing is re-serialized, so comments and layout stay.
 */
export const iniStep: StepKind<IniOptions> = {
  name: 'ini',
  init: [
    {
      group: 'ini',
      files: ['**/*.[iI][nN][iI]', '**/*.[cC][nN][fF]', '**/pg_service.conf'],
      rank: 40,
      order: 10,
      step: { why: 'INI files: addresses inside values become names', keys: 'addresses: names' },
    },
  ],
  encodings: INI_ENCODINGS,
  options: s.object(
    {
      ...commonKeys,
      ...ruleKeys,
      set: setSchema('a section.key (or a key before any section)'),
      quote: s.oneOf(['auto', 'never'] as const),
    },
    { required: ['files'] },
  ),
  needles: (o, ctx) => literalNeedles(o, ctx),
  plan(file, o, ctx) {
    const text = file.text
    const doc = parseIni(text)
    const shell = isShellEnv(file.path)
    const { edits: assigned, targets, diagnostics } = planSet(doc, text, o, ctx, shell)
    // with keys:, the values of other keys are left (and said to be)
    const inScope = keyScopeAnywhere(o.keys)
    const outside = o.keys
      ? doc.entries.filter((e) => !inScope(iniPath(e))).map((e) => e.value)
      : []
    const regions: LiteralRegion[] = doc.entries
      .filter((e) => !targets.has(e) && (!o.keys || inScope(iniPath(e))))
      .map((e) => ({
        start: e.value.start,
        end: e.value.end,
        whole: true,
        encoding: encodingOf(e, shell),
      }))
    const edits: Edit[] = [
      ...assigned,
      ...rewriteLiterals(text, regions, literalRules(o, ctx, INI_ENCODINGS)),
    ]
    const leftovers = scanLeftovers(text, ctx, edits, {
      reason: iniReason(doc, outside, o.keys),
      fallback: ruleFallback(o),
    })
    return { edits, diagnostics, leftovers }
  },
}

function planSet(doc: IniDocument, text: string, o: IniOptions, ctx: Context, shell: boolean) {
  const edits: Edit[] = []
  const targets = new Set<IniEntry>()
  const diagnostics: Diagnostic[] = []
  for (const [name, value] of Object.entries(o.set ?? {})) {
    const rule = `set.${name}`
    const found = doc.entries.filter(
      (e) => `${e.section}.${e.key}` === name || (e.section === '' && e.key === name),
    )
    if (found.length === 0) {
      diagnostics.push({
        code: 'SET_NOT_FOUND',
        severity: 'warning',
        message: `set ${name}: no such key in this file (keys are written section.key)`,
        range: { start: 0, end: 0 },
      })
      continue
    }
    for (const e of found) {
      if (e.value.start === e.keySpan.end) {
        diagnostics.push({
          code: 'SET_NO_VALUE',
          severity: 'warning',
          message: `set ${name}: the key has no "=" here; left unchanged`,
          range: e.keySpan,
        })
        continue
      }
      targets.add(e)
      const current = text.slice(e.value.start, e.value.end)
      const raw = typeof value === 'string' ? value : ctx.secret(value.secret)
      if (e.quote === "'" && raw.includes("'")) {
        // nothing escapes ' inside '…': sh's value becomes double-quoted; php.ini and my.cnf have no way
        if (shell) {
          edits.push(
            ...setEdits(
              { start: e.value.start - 1, end: e.value.end + 1 },
              current,
              value,
              doubleQuoted(true),
              INI_ENCODINGS,
              ctx,
              rule,
              { open: '"', close: '"' },
            ),
          )
        } else {
          diagnostics.push({
            code: 'SET_UNSAFE',
            severity: 'warning',
            message: `set ${name}: the value holds ' and this value is single-quoted; left unchanged (quote it with " by hand)`,
            range: e.value,
          })
        }
        continue
      }
      if (e.quote) {
        edits.push(
          ...setEdits(e.value, current, value, encodingOf(e, shell), INI_ENCODINGS, ctx, rule),
        )
        continue
      }
      const quote =
        (o.quote ?? 'auto') === 'auto' && (shell ? needsShellQuotes(raw) : needsQuotes(raw))
      // `host =` with nothing after it: keep the file's `key = value` spacing
      const gap =
        current === '' && raw !== '' && /^[ \t]+=$/.test(text.slice(e.keySpan.end, e.value.start))
          ? ' '
          : ''
      const around =
        quote || gap ? { open: gap + (quote ? '"' : ''), close: quote ? '"' : '' } : undefined
      edits.push(
        ...setEdits(
          e.value,
          current,
          value,
          quote ? doubleQuoted(shell) : ['raw'],
          INI_ENCODINGS,
          ctx,
          rule,
          around,
        ),
      )
    }
  }
  return { edits, targets, diagnostics }
}

/** True when an unquoted INI value would not read back as itself. */
function needsQuotes(v: string): boolean {
  return /[;#"'\\\r\n]/.test(v) || /^\s|\s$/.test(v)
}

/** True when an unquoted shell word would not read back as itself (blanks, quotes, $, globs, ;, #…). */
function needsShellQuotes(v: string): boolean {
  return /[^\w./:@%+,=-]/.test(v)
}

/**
 * The key path of an entry for `keys:`: its section's and its own dotted parts
 * (`[Session] session.save_path` is `Session`, `session`, `save_path`); an entry before any
 * section has its key's alone.
 */
function iniPath(e: IniEntry): string[] {
  return [...(e.section === '' ? [] : e.section.split('.')), ...e.key.split('.')]
}

function within(list: readonly IniSpan[], at: number): boolean {
  return list.some((s) => s.start <= at && at < s.end)
}

/** Why an occurrence was left: a comment, a key or section name, or not a value. */
function iniReason(doc: IniDocument, outside: readonly IniSpan[], keys?: readonly string[]) {
  const names = [...doc.entries.map((e) => e.keySpan), ...doc.sections.map((s) => s.span)]
  const values = doc.entries.map((e) => e.value)
  return (start: number): string | undefined => {
    if (within(doc.comments, start)) return 'inside a comment'
    if (within(names, start)) return 'a key or section name, not a value'
    if (keys && within(outside, start)) return outsideKeysReason(keys)
    if (within(values, start)) return undefined
    return 'not a value'
  }
}
