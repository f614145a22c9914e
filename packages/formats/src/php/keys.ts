import type { KeyPath } from '@cutover/rewrite'
import type { PhpUnit } from './lex.js'

/** A string literal of a PHP file and the key path of the value it is (or the key it writes). */
export interface PhpLiteralPath {
  start: number
  end: number
  /** Undefined where no assignment, `define`, `return` or array key says whose value it is. */
  path: KeyPath | undefined
}

/** An open `array(…)`/`[…]` (its elements are keyed) or another bracket (its path passes through). */
interface Frame {
  array: boolean
  close: string
  path: KeyPath | undefined
  /** The element being read: its explicit key, or the count of positional elements before it. */
  key: string | number | undefined
  index: number
}

const isTok = (u: PhpUnit | undefined, type: string): boolean =>
  u?.kind === 'token' && u.token.type.toLowerCase() === type.toLowerCase()

/** The key an array element's key unit writes: a plain literal's content, a number, a constant's name. */
function keyText(u: PhpUnit | undefined, text: string): string | number | undefined {
  if (u?.kind === 'literal')
    return u.interpolated ? undefined : text.slice(u.content.start, u.content.end)
  if (u?.kind !== 'token') return undefined
  if (u.token.type === 'T_LNUMBER') return Number(u.token.text)
  return u.token.type === 'T_STRING' ? u.token.text : undefined
}

/**
 * The target of an assignment starting at the variable unit `i` (`$CONFIG`, `$CFG->wwwroot`,
 * `$db['default']['host']`) and the index of its `=`, or undefined when no `=` follows.
 */
function assignmentAt(
  units: readonly PhpUnit[],
  i: number,
  text: string,
): { path: KeyPath; at: number } | undefined {
  const u = units[i]
  if (u?.kind !== 'token') return undefined
  const path: Array<string | number> = [u.token.text.slice(1)]
  let j = i + 1
  for (;;) {
    const next = units[j]
    if (isTok(next, 'T_OBJECT_OPERATOR') && isTok(units[j + 1], 'T_STRING')) {
      path.push((units[j + 1] as { token: { text: string } }).token.text)
      j += 2
    } else if (isTok(next, '[') && isTok(units[j + 2], ']')) {
      // a variable index (`$cfg['Servers'][$i]`) is the segment `$i`, which `*` matches
      const v = units[j + 1]
      const k = isTok(v, 'T_VARIABLE')
        ? (v as { token: { text: string } }).token.text
        : keyText(v, text)
      if (k === undefined) return undefined
      path.push(k)
      j += 3
    } else if (isTok(next, '[') && isTok(units[j + 1], ']')) {
      // `$a['list'][] = v` appends: the element's position is not known here
      j += 2
      break
    } else break
  }
  return isTok(units[j], '=') ? { path, at: j } : undefined
}

/** Where a value in the frame on top stands: its array key (or position) appended, or the frame's own path. */
function valuePath(top: Frame | undefined, root: KeyPath | undefined): KeyPath | undefined {
  if (!top) return root
  if (!top.array || top.path === undefined) return top.path
  return [...top.path, top.key ?? top.index]
}

/**
 * The key path of every string literal of a PHP file, as `set` and `keys:` name it: the variable
 * an assignment writes (`CONFIG`, `CFG` then `wwwroot` for `$CFG->wwwroot`), a `define`'s
 * constant, then the keys of the arrays around the literal (`'trusted_domains' =>`, and the
 * position of an element without a key). A literal under `return [...]` starts at the array.
 */
export function phpLiteralPaths(units: readonly PhpUnit[], text: string): PhpLiteralPath[] {
  const out: PhpLiteralPath[] = []
  const stack: Frame[] = []
  let root: KeyPath | undefined
  for (let i = 0; i < units.length; i++) {
    const u = units[i]!
    const top = stack[stack.length - 1]
    if (u.kind === 'literal') {
      // the key of an element: the literal is the key it writes
      if (top?.array && isTok(units[i + 1], 'T_DOUBLE_ARROW')) top.key = keyText(u, text)
      out.push({ start: u.start, end: u.end, path: valuePath(top, root) })
      continue
    }
    const t = u.token
    if (stack.length === 0 && (t.type === ';' || t.type === '{' || t.type === '}')) {
      root = undefined
    } else if (t.type === 'T_VARIABLE') {
      const a = assignmentAt(units, i, text)
      if (a && stack.length === 0) {
        root = a.path
        i = a.at
      }
    } else if (
      isTok(u, 'T_STRING') &&
      t.text.toLowerCase() === 'define' &&
      isTok(units[i + 1], '(') &&
      units[i + 2]?.kind === 'literal' &&
      isTok(units[i + 3], ',')
    ) {
      const key = keyText(units[i + 2], text)
      out.push({ ...span(units[i + 2]!), path: key === undefined ? undefined : [key] })
      stack.push({
        array: false,
        close: ')',
        path: key === undefined ? undefined : [key],
        key: undefined,
        index: 0,
      })
      i += 3
    } else if (t.type === 'T_RETURN' && stack.length === 0) {
      root = []
    } else if (t.type === 'T_ARRAY' && isTok(units[i + 1], '(')) {
      stack.push({ array: true, close: ')', path: valuePath(top, root), key: undefined, index: 0 })
      i += 1
    } else if (
      t.type === '[' ||
      t.type === '(' ||
      t.type === '{' ||
      t.type === 'T_CURLY_OPEN' ||
      t.type === 'T_DOLLAR_OPEN_CURLY_BRACES'
    ) {
      const array = t.type === '[' && !indexes(units[i - 1])
      stack.push({
        array,
        close: t.type === '[' ? ']' : t.type === '(' ? ')' : '}',
        path: valuePath(top, root),
        key: undefined,
        index: 0,
      })
    } else if (t.type === ')' || t.type === ']' || t.type === '}') {
      // a closer pops up to its opener (a stray one is ignored)
      const at = stack.map((f) => f.close).lastIndexOf(t.type)
      if (at >= 0) stack.length = at
    } else if (t.type === ',' && top?.array) {
      if (top.key === undefined) top.index++
      top.key = undefined
    } else if (t.type === 'T_DOUBLE_ARROW' && top?.array && top.key === undefined) {
      top.key = keyText(units[i - 1], text)
    }
  }
  return out
}

/** Whether a `[` after this unit indexes a value (`$a[`, `f()[`, `$a['k'][`) rather than opening an array. */
function indexes(prev: PhpUnit | undefined): boolean {
  if (!prev) return false
  if (prev.kind === 'literal') return true
  const t = prev.token.type
  return t === 'T_VARIABLE' || t === ')' || t === ']' || t === '}' || t === 'T_STRING'
}

function span(u: PhpUnit): { start: number; end: number } {
  return u.kind === 'token'
    ? { start: u.token.start, end: u.token.end }
    : { start: u.start, end: u.end }
}
