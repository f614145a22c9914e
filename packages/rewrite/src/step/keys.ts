import { array, refine, string, type Schema } from '../spec/schema.js'

/** Where a value sits in a structured file: its keys from the root, array indexes as numbers. */
export type KeyPath = readonly (string | number)[]

/**
 * The segments of a `keys:` entry: a dotted path as `set` writes it (`a.b.c`; `CFG->wwwroot`
 * for a PHP property), `*` standing for any one segment.
 */
export function keySegments(key: string): string[] {
  return key.split(/\.|->/)
}

/**
 * The scope of a step's `keys:`: a test of whether a value at `path` is in it. A value is in
 * scope when its path starts with one of the keys (segment by segment, compared exactly, `*`
 * matching any one segment), so `trusted_domains` covers every element of that array. Without
 * keys (`undefined`) every value is in scope; with an empty list, none is.
 */
export function keyScope(keys: readonly string[] | undefined): (path: KeyPath) => boolean {
  if (keys === undefined) return () => true
  const prefixes = keys.map(keySegments)
  return (path) =>
    prefixes.some(
      (prefix) =>
        prefix.length <= path.length &&
        prefix.every((seg, i) => seg === '*' || seg === String(path[i])),
    )
}

/** Why a keyed step left an old value it could have rewritten: `outside this step's keys (listen, set_real_ip_from)`. */
export function outsideKeysReason(keys: readonly string[]): string {
  return `outside this step's keys (${keys.join(', ')})`
}

/** Schema of `keys:`: a non-empty list of key paths (or, in `text`, first words of lines). */
export const keysSchema: Schema<string[]> = array(
  refine(
    string({
      describe:
        'a key: the first word of a line (text), or a dotted key path as set writes it, * for any one segment',
    }),
    (v) =>
      v.trim() === ''
        ? 'a key must not be empty'
        : /\s/.test(v)
          ? `a key holds no blanks, got "${v}"`
          : keySegments(v).some((s) => s === '')
            ? `"${v}" has an empty segment (two dots, or a dot at an end)`
            : undefined,
  ),
  { minItems: 1, describe: 'a list of keys' },
)

/**
 * Why a step's `keys:` would do nothing: it limits `addresses`, `replace`, `swap` and `variants`,
 * and the step has none of them (`set` names its own keys). Undefined when it has rules, or no
 * `keys:`.
 */
export function idleKeysProblem(o: {
  addresses?: string
  replace?: Record<string, string>
  swap?: readonly unknown[]
  variants?: readonly string[]
  keys?: readonly string[]
}): string | undefined {
  if (o.keys === undefined) return undefined
  const rules =
    (o.addresses ?? 'none') !== 'none' ||
    Object.keys(o.replace ?? {}).length > 0 ||
    (o.swap?.length ?? 0) > 0 ||
    (o.variants?.length ?? 0) > 0
  return rules
    ? undefined
    : 'keys limits addresses, replace, swap and variants, and this step has none of them (set names its own keys): add a rule or remove keys'
}
