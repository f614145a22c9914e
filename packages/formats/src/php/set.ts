import type { PhpQuote, PhpUnit } from './lex.js'

/** Where a `set` key is assigned in PHP code, and the value expression found there. */
export interface PhpAssignment {
  key: string
  /** Where the assignment is, for messages. */
  at: { start: number; end: number }
  /** How it is assigned: `define`, `array key` or `variable`. */
  form: 'define' | 'array key' | 'variable'
  value: PhpValue
}

/** A value expression: a string literal, a scalar token (number, true, null…), or something else. */
export type PhpValue =
  | {
      kind: 'literal'
      start: number
      end: number
      quote: PhpQuote
      content: { start: number; end: number }
      indent?: string
      label?: string
    }
  | { kind: 'scalar'; start: number; end: number }
  | { kind: 'expression'; start: number; end: number }

const isTok = (u: PhpUnit | undefined, type: string, text?: string): boolean =>
  u?.kind === 'token' &&
  u.token.type === type &&
  (text === undefined || u.token.text.toLowerCase() === text.toLowerCase())

/** The literal's value when it is a plain string literal (no interpolation, no escapes that matter for a key). */
function keyOf(u: PhpUnit | undefined, text: string): string | undefined {
  if (u?.kind !== 'literal' || u.interpolated) return undefined
  return text.slice(u.content.start, u.content.end)
}

const SCALAR = new Set(['T_LNUMBER', 'T_DNUMBER'])
const CONSTANTS = new Set(['true', 'false', 'null'])
const ENDS = new Set([',', ')', ']', ';'])

/**
 * The value expression starting at unit `i`: a literal (or the default of a Laravel-style
 * `env('X', 'default')` call) followed by `,` `)` `]` or `;`; otherwise an expression.
 */
function valueAt(units: readonly PhpUnit[], i: number): PhpValue | undefined {
  const u = units[i]
  if (!u) return undefined
  const next = units[i + 1]
  const span =
    u.kind === 'token' ? { start: u.token.start, end: u.token.end } : { start: u.start, end: u.end }
  const ended = next === undefined || (next.kind === 'token' && ENDS.has(next.token.type))
  if (u.kind === 'literal' && ended)
    return {
      kind: 'literal',
      start: u.start,
      end: u.end,
      quote: u.quote,
      content: u.content,
      ...(u.indent ? { indent: u.indent } : {}),
      ...(u.label ? { label: u.label } : {}),
    }
  if (
    u.kind === 'token' &&
    ended &&
    (SCALAR.has(u.token.type) ||
      (u.token.type === 'T_STRING' && CONSTANTS.has(u.token.text.toLowerCase())))
  ) {
    return { kind: 'scalar', ...span }
  }
  // env('NAME', 'default') / getenv-style defaults: the default is the value written here
  if (
    isTok(u, 'T_STRING', 'env') &&
    isTok(units[i + 1], '(') &&
    units[i + 2]?.kind === 'literal' &&
    isTok(units[i + 3], ',')
  ) {
    const d = units[i + 4]
    if (d?.kind === 'literal' && isTok(units[i + 5], ')'))
      return {
        kind: 'literal',
        start: d.start,
        end: d.end,
        quote: d.quote,
        content: d.content,
        ...(d.indent ? { indent: d.indent } : {}),
        ...(d.label ? { label: d.label } : {}),
      }
  }
  return { kind: 'expression', ...span }
}

/**
 * Every assignment of `key` in the units of a PHP file: `define('KEY', v)`, `'KEY' => v`, and
 * `$KEY = v` (`$CFG->dbhost = v` for a key written `CFG->dbhost`).
 */
export function findAssignments(
  units: readonly PhpUnit[],
  text: string,
  key: string,
): PhpAssignment[] {
  const out: PhpAssignment[] = []
  const [varName, prop] = key.includes('->')
    ? (key.split('->', 2) as [string, string])
    : [key, undefined]
  for (let i = 0; i < units.length; i++) {
    const u = units[i]!
    if (
      u.kind === 'token' &&
      isTok(u, 'T_STRING', 'define') &&
      isTok(units[i + 1], '(') &&
      keyOf(units[i + 2], text) === key &&
      isTok(units[i + 3], ',')
    ) {
      const value = valueAt(units, i + 4)
      if (value)
        out.push({ key, at: { start: u.token.start, end: value.end }, form: 'define', value })
    } else if (
      u.kind === 'literal' &&
      keyOf(u, text) === key &&
      isTok(units[i + 1], 'T_DOUBLE_ARROW')
    ) {
      const value = valueAt(units, i + 2)
      if (value) out.push({ key, at: { start: u.start, end: value.end }, form: 'array key', value })
    } else if (
      u.kind === 'token' &&
      u.token.type === 'T_VARIABLE' &&
      u.token.text === `$${varName}`
    ) {
      let j = i + 1
      if (prop !== undefined) {
        if (
          !isTok(units[j], 'T_OBJECT_OPERATOR') ||
          !(
            units[j + 1]?.kind === 'token' &&
            (units[j + 1] as { token: { text: string } }).token.text === prop
          )
        )
          continue
        j += 2
      }
      if (!isTok(units[j], '=')) continue
      const value = valueAt(units, j + 1)
      if (value)
        out.push({ key, at: { start: u.token.start, end: value.end }, form: 'variable', value })
    }
  }
  return out
}
