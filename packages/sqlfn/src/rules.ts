import {
  Matcher,
  rulePatterns,
  variantPatterns,
  type Context,
  type Pattern,
  type RuleOptions,
  type ValueSpec,
} from '@cutover/rewrite'
import { SQL_ENCODINGS } from './literal.js'

/** `passwords:` of the `sql` step: conninfo host (a name of the inventory, or any host) → value. */
export type PasswordOptions = Record<string, ValueSpec>

/**
 * The rules of a `sql` step compiled for one context: variants match whole values, `addresses`,
 * `replace` and `swap` match inside values, `passwords` set a conninfo's password by host.
 */
export interface SqlRules {
  /** Whole-value variants: every profile's value → the active profile's (identities included). */
  variants: ReadonlyMap<string, Pattern>
  /** Addresses, replace and swap, matched inside values. */
  matcher: Matcher
  passwords: ReadonlyArray<{ host: string; hosts: ReadonlySet<string>; value: ValueSpec }>
  /** Reads a secret (the step context's `secret`). */
  secret(name: string): string
}

/** Compiles a step's rule options for `ctx` (see {@link SqlRules}). */
export function compileRules(
  o: RuleOptions & { passwords?: PasswordOptions },
  ctx: Context,
): SqlRules {
  const variants = new Map<string, Pattern>()
  for (const group of o.variants ?? [])
    for (const p of variantPatterns(group, ctx, 'none')) variants.set(p.find, p)
  const matcher = new Matcher(rulePatterns({ ...o, variants: [] }, ctx))
  const passwords = Object.entries(o.passwords ?? {}).map(([host, value]) => {
    const hosts = new Set([host])
    for (const h of ctx.inventory)
      if (h.name === host) {
        hosts.add(h.old)
        hosts.add(h.new)
      }
    return { host, hosts, value }
  })
  return { variants, matcher, passwords, secret: (n) => ctx.secret(n) }
}

/** Literals a text must hold for {@link rewriteValue} to change anything in it. */
export function ruleNeedles(rules: SqlRules): string[] {
  const out = rules.matcher.needles()
  for (const p of rules.variants.values()) if (p.find !== p.replace) out.push(p.find)
  for (const p of rules.passwords) out.push(...p.hosts)
  return out
}

/**
 * One change to a decoded value: offsets index the value; `text` is the new value text before
 * any literal encoding. A password carries `secret` (the secret's name, `text` being the value
 * already encoded for a conninfo) and `sensitive`.
 */
export interface ValueEdit {
  start: number
  end: number
  text: string
  rule: string
  summary: string
  secret?: string
  sensitive?: boolean
  /** The one-time move the edit belongs to (a swap), see `Edit.once`. */
  once?: string
}

/**
 * The changes the rules make to one string value (a literal's or a COPY field's decoded value):
 * a whole-value variant, or addresses/replace/swap matches inside it plus conninfo passwords.
 * Pure: the same value and rules give the same edits; a value already rewritten gives none.
 */
export function rewriteValue(value: string, rules: SqlRules): ValueEdit[] {
  const variant = rules.variants.get(value)
  if (variant) {
    if (variant.find === variant.replace) return []
    return [
      {
        start: 0,
        end: value.length,
        text: variant.replace,
        rule: variant.rule,
        summary: `${variant.find} -> ${variant.replace}`,
      },
    ]
  }
  const out: ValueEdit[] = []
  for (const m of rules.matcher.scan(value).matches) {
    if (m.pattern.find === m.pattern.replace) continue
    out.push({
      start: m.start,
      end: m.end,
      text: m.pattern.replace,
      rule: m.pattern.rule,
      summary: `${m.pattern.find} -> ${m.pattern.replace}`,
      ...(m.pattern.once ? { once: m.pattern.once } : {}),
    })
  }
  if (rules.passwords.length && value.includes('=')) out.push(...passwordEdits(value, rules))
  return out
}

/** A `key=value` pair of a libpq conninfo; `start`/`end` span the value as written (quotes included). */
export interface ConninfoPair {
  key: string
  value: string
  keyStart: number
  start: number
  end: number
}

/** Parses a libpq `key=value …` connection string; undefined when `s` is not one. */
export function parseConninfo(s: string): ConninfoPair[] | undefined {
  const pairs: ConninfoPair[] = []
  const re = /\s*([A-Za-z_]+)\s*=\s*/y
  let i = 0
  while (i < s.length) {
    if (/^\s*$/.test(s.slice(i))) break
    re.lastIndex = i
    const m = re.exec(s)
    if (!m) return undefined
    const start = re.lastIndex
    const keyStart = i + m[0].indexOf(m[1]!)
    if (s[start] === "'") {
      let j = start + 1
      let value = ''
      while (j < s.length && s[j] !== "'") {
        if (s[j] === '\\') j++
        value += s[j] ?? ''
        j++
      }
      if (j >= s.length) return undefined
      pairs.push({ key: m[1]!, value, keyStart, start, end: j + 1 })
      i = j + 1
    } else {
      let j = start
      while (j < s.length && !/\s/.test(s[j]!)) j++
      pairs.push({ key: m[1]!, value: s.slice(start, j), keyStart, start, end: j })
      i = j
    }
  }
  return pairs.length &&
    pairs.some((p) => p.key === 'host' || p.key === 'hostaddr' || p.key === 'dbname')
    ? pairs
    : undefined
}

function passwordEdits(value: string, rules: SqlRules): ValueEdit[] {
  const pairs = parseConninfo(value)
  if (!pairs) return []
  const host = pairs.find((p) => p.key === 'host' || p.key === 'hostaddr')
  const rule = host && rules.passwords.find((p) => p.hosts.has(host.value))
  if (!rule) return []
  const secretName = typeof rule.value === 'string' ? undefined : rule.value.secret
  const plain = secretName === undefined ? (rule.value as string) : rules.secret(secretName)
  // the encoder apply uses too: plan and apply must encode the secret alike
  const text = SQL_ENCODINGS.conninfo!(plain)
  const summary = `password for ${rule.host}${secretName ? ` from secret ${secretName}` : ''}`
  const secret = secretName ? { secret: secretName } : {}
  const current = pairs.find((p) => p.key === 'password')
  if (current) {
    if (current.value === plain) return []
    return [
      {
        start: current.start,
        end: current.end,
        text,
        rule: 'passwords',
        summary,
        sensitive: true,
        ...secret,
      },
    ]
  }
  const at = pairs[pairs.length - 1]!.end
  return [
    { start: at, end: at, text: ' password=', rule: 'passwords', summary },
    { start: at, end: at, text, rule: 'passwords', summary, sensitive: true, ...secret },
  ]
}
