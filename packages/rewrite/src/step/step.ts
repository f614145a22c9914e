import { rootPathProblem } from '../fs/confine.js'
import { commandProblem } from './command.js'
import type { Diagnostic } from '../diff/diagnostic.js'
import type { Edit } from '../edit/edit.js'
import type { Encoders } from '../edit/encode.js'
import {
  boundaryFor,
  networkPattern,
  type Boundary,
  type NetworkRule,
  type Pattern,
} from '../match/match.js'
import {
  array,
  boolean,
  object,
  oneOf,
  rangeOf,
  record,
  refine,
  string,
  union,
  type Schema,
  type SchemaContext,
} from '../spec/schema.js'
import type { SourceText } from '../text/source.js'
import type { StagedTool } from '../transaction/participant.js'
import type { DatabaseTarget } from './database.js'
import { canonicalIPv6 } from '../match/network.js'
import type { Context, Rename } from './context.js'
import { keysSchema } from './keys.js'

export type { Context, InventoryHost, NetworkMap, Rename, VariantEntry } from './context.js'

/** Something still present after planning that a reviewer should know of; offsets into the step's input. */
export interface Leftover {
  start: number
  end: number
  text: string
  reason: string
}

/** What a step makes of one file. Offsets index the step's input text. */
export interface StepResult {
  edits: Edit[]
  diagnostics: Diagnostic[]
  leftovers: Leftover[]
}

/** Checks a staged file before it is installed; resolves to an error message, or undefined when valid. */
export interface Validator {
  name: string
  /** Whether the tool it needs is here (a missing `php` skips `php -l` with a warning). */
  available?(): Promise<boolean>
  run(stagedPath: string, target: string): Promise<string | undefined>
  /**
   * The check runs in this process and reads only the staged file (no command): an apply runs
   * many at once. Without it, one per core at once (a command: visudo).
   */
  inProcess?: boolean
  /** Also run by `plan` on the planned texts (fast enough for every plan: the PHP linter). */
  plan?: boolean
  /**
   * Starts what the check will need (the PHP linter's process) ahead of its first batch, when a
   * plan is about to run it; optional, and never needed for a correct verdict.
   */
  warm?(): void
  /**
   * Checks many staged files at once (e.g. one process for all of them instead of one each),
   * with the same verdicts as `run`; resolves to one result per item, in order.
   */
  runBatch?(items: readonly ValidatorItem[]): Promise<(string | undefined)[]>
  /**
   * The 0-based column of the error the tool reported on `line` (1-based) of `text`, for tools
   * whose messages name a line only (PHP's); undefined when it cannot tell.
   */
  column?(text: string, line: number): Promise<number | undefined>
  /**
   * The same check as a command run on the staged file (`visudo -cf PATH`, `php -l PATH`), so that
   * a file staged on another machine is checked there, by that machine's tool. Validators without
   * it read only the staged file's bytes (they run here on a copy of the same bytes).
   */
  tool?: StagedTool
}

/** A staged file for `Validator.runBatch`: where it is staged, and the target it will become. */
export interface ValidatorItem {
  stagedPath: string
  target: string
}

/**
 * A group of files a step kind claims for `cutover init`, and the step the starter spec suggests
 * for them. A file goes to the group of lowest `rank` whose `files` match it.
 */
export interface InitSuggestion {
  /** The group's name (a scanned file's `kind`): the kind's own name, or another (`pg_hba`). */
  group: string
  /**
   * Globs relative to the root, matched as written (`etc/**\/hosts`, not `etc/HOSTS`); an
   * extension matched in any case is spelled so (`**\/*.[pP][hH][pP]`).
   */
  files: readonly string[]
  /** Which group takes a file that several claim: the lowest. */
  rank: number
  /** Where the group's step comes in the starter spec: lowest first. */
  order: number
  /** The comment above the suggested step, and its keys besides `files` (YAML, one line). */
  step?: { why: string; keys: string }
  /** Instead of a step: a comment above the list of the group's files and their addresses. */
  note?: string
  /** The name a file of the group gives each address (a hosts file's), as [address, name] pairs. */
  names?(text: string): Array<[address: string, name: string]>
}

/** A kind of step (`text`, `php`, `hosts`, …): the engine calls it for every file in its scope. */
export interface StepKind<O = unknown> {
  name: string
  /** Validates the step's keys (including `files`, `exclude`, `profiles`). */
  options: Schema<O & CommonOptions>
  /** Literals a file must contain (as raw bytes) for the step to have anything to do there. */
  needles(o: O, ctx: Context): string[]
  plan(file: SourceText, o: O, ctx: Context): StepResult | Promise<StepResult>
  /** Run on every staged target of this kind before any is installed. */
  validators?: readonly Validator[]
  /**
   * The encoders of the literals this kind writes into, by the names its edits record
   * (`php-single`, `sql`, …): `apply` encodes a secret with them, found by name among the kinds
   * it is given, so a saved plan names its encodings and never holds the value.
   */
  encodings?: Encoders
  /** What `cutover init` suggests for the files this kind claims (see {@link InitSuggestion}). */
  init?: readonly InitSuggestion[]
  /** Rules whose prefilter needles say nothing (e.g. `ensure` adds to files that lack the name). */
  alwaysPlan?(o: O): boolean
  /** The live-database side of the kind, for steps whose options address a database instead of files. */
  database?: DatabaseTarget<O>
}

/** Keys every step has. */
export interface CommonOptions {
  files: string[]
  exclude?: string[]
  profiles?: string[]
  /** Create the literal paths of `files` that do not exist, empty, with this octal mode (`"0440"`). */
  create?: { mode: string }
  /** Write files whose directory (or a parent) a user other than root and the file's owner can change; refused as root otherwise. */
  'allow-user-writable'?: boolean
  /** The machines (of the spec's `machines:`) the step runs on; absent: every machine. */
  on?: string[]
  /**
   * A command run on each staged file of the step the plan changes, on the machine the file
   * belongs to, before anything is installed (`nginx -t -c %s`): `%s` the staged file, `%d` a
   * scratch root holding it at its path; split into words once, never given to a shell.
   */
  validate?: string
}

/** The rewrite rules shared by step kinds. */
export interface RuleOptions {
  addresses?: 'names' | 'new' | 'none'
  replace?: Record<string, string>
  swap?: Array<[string, string]>
  variants?: string[]
  /**
   * Limits `addresses`, `replace`, `swap` and `variants` to the values of these keys: the first
   * word of a line in `text`, a dotted key path in structured kinds (see `keyScope`).
   */
  keys?: string[]
}

const glob = string({ describe: 'a glob relative to the root', check: rootPathProblem })

/**
 * `on: [NAME…]`: the machines of the spec's `machines:` a step (or the leftover scan) runs on;
 * without it, every machine. Without `machines:` there is no machine to name.
 */
const onList = refine(
  array(
    refine(
      string({ describe: 'a machine name, or @group of the Ansible inventory' }),
      (v, _n, ctx) => (v.startsWith('@') ? groupProblem(v.slice(1), ctx) : machineProblem(v, ctx)),
    ),
    {
      minItems: 1,
      describe: 'a list of machine names (of machines:) or @groups of the Ansible inventory',
    },
  ),
  (v) => {
    const dup = v.find((m, i) => v.indexOf(m) !== i)
    return dup ? `machine "${dup}" is listed twice` : undefined
  },
  (base) => ({ ...base, uniqueItems: true }),
)

function machineProblem(v: string, ctx: SchemaContext): string | undefined {
  return ctx.refs.machines.length === 0
    ? `\`on\` names machines of \`machines:\`, and the spec declares none: declare machines: first, or remove on`
    : ctx.refs.machines.includes(v)
      ? undefined
      : `unknown machine "${v}"; the spec's machines: ${ctx.refs.machines.join(', ')}`
}

function groupProblem(group: string, ctx: SchemaContext): string | undefined {
  const groups = ctx.refs.groups ?? {}
  const names = Object.keys(groups)
  if (names.length === 0)
    return `"@${group}" names a group of an Ansible inventory, and the spec's machines are not an inventory's (machines: { ansible: FILE } or --inventory FILE)`
  const hosts = Object.hasOwn(groups, group) ? groups[group]! : undefined
  if (!hosts)
    return `unknown group "@${group}"; the inventory's groups: ${names.map((n) => `@${n}`).join(', ')}`
  return hosts.length ? undefined : `group "@${group}" of the inventory has no hosts`
}

/**
 * `on`: the machines a step (or the scan) runs on, by name or as `@group` of the Ansible
 * inventory the machines come from; a group stands for its hosts (its child groups' too), so the
 * value is the machine names, each once, in the order given.
 */
export const onMachines: Schema<string[]> = {
  expected: onList.expected,
  parse(node, ctx, at) {
    const v = onList.parse(node, ctx, at)
    if (v === undefined) return undefined
    return [...new Set(v.flatMap((n) => (n.startsWith('@') ? ctx.refs.groups![n.slice(1)]! : [n])))]
  },
  json: onList.json,
}

/** Schemas of the keys every step has; spread them into a step's `object()` shape. */
export const commonKeys = {
  files: array(glob, { minItems: 1, describe: 'a list of globs relative to the root' }),
  exclude: array(glob, { describe: 'a list of globs relative to the root' }),
  profiles: array(
    refine(string({ describe: 'a profile name' }), (v, _n, ctx) =>
      ctx.refs.profiles.includes(v)
        ? undefined
        : `unknown profile "${v}"; the spec declares: ${ctx.refs.profiles.join(', ') || 'none'}`,
    ),
    { describe: 'a list of profile names' },
  ),
  create: object(
    { mode: string({ describe: 'an octal file mode such as "0440"', pattern: /^0?[0-7]{3}$/ }) },
    {
      required: ['mode'],
      describe:
        'a mapping { mode: "0440" }: create the files named in files (literal paths) when they do not exist',
    },
  ),
  'allow-user-writable': boolean(),
  on: onMachines,
  validate: refine(
    string({
      describe:
        'a command run on each staged file before install: %s the staged file, %d a scratch root holding it at its path (no shell: quote with quotes or a backslash)',
      pattern: /\S/,
    }),
    (v) => commandProblem(v),
  ),
} as const

const nonEmpty = string({ describe: 'a host name or an IPv4 address', pattern: /\S/ })

/** Schemas of the rule keys (`addresses`, `replace`, `swap`, `variants`, `keys`). */
export const ruleKeys = {
  addresses: oneOf(['names', 'new', 'none'] as const),
  replace: record(nonEmpty, { describe: 'a mapping of old name or address to new one' }),
  swap: array(
    refine(
      array(nonEmpty, { describe: 'a pair [a, b]' }),
      (v) =>
        v.length === 2 && v[0] !== v[1]
          ? undefined
          : 'a swap is a pair of two different values [a, b]',
      (base) => ({ ...base, minItems: 2, maxItems: 2, uniqueItems: true }),
    ),
    { describe: 'a list of pairs [a, b]' },
  ) as unknown as Schema<Array<[string, string]>>,
  variants: array(
    refine(string({ describe: 'a variant group name' }), (v, _n, ctx) =>
      ctx.refs.variants.includes(v)
        ? undefined
        : `unknown variant group "${v}"; the spec defines: ${ctx.refs.variants.join(', ') || 'none'}`,
    ),
    { describe: 'a list of variant group names' },
  ),
  keys: keysSchema,
} as const

/** A value to write: a plain string, or `{ secret: NAME }` read from the environment. */
export type ValueSpec = string | { secret: string }

/** Schema of a {@link ValueSpec}. */
export const valueSpec: Schema<ValueSpec> = union(
  string({ describe: 'a value' }),
  object(
    {
      secret: refine(string({ describe: 'a secret name' }), (v, node, ctx: SchemaContext, at) => {
        if (!ctx.refs.secrets.includes(v))
          return `unknown secret "${v}"; the spec's secrets: ${ctx.refs.secrets.join(', ') || 'none'}`
        ctx.secretUses?.push({ name: v, step: -1, range: rangeOf(node, at) })
        return undefined
      }),
    },
    { required: ['secret'] },
  ),
  'a value or { secret: NAME }',
)

/** How variant literals are matched: whole dotted tokens in text, whole literals in structured formats. */
export interface RuleBuildOptions {
  variantBoundary?: Boundary
}

/**
 * The patterns of a step's rule keys, for one {@link Matcher}: `addresses` (every inventory old
 * address to its name or new address, its IPv6 address `old6` too, and every address of the
 * networks that move), `replace`, `swap`, and `variants` (every profile's value to the active
 * profile's, the active value included as an identity so it is consumed whole). Under
 * `addresses: names` an address pattern's `address` is the new address, what it becomes where
 * only an address may stand (docs/design.md §3).
 */
export function rulePatterns(
  o: RuleOptions,
  ctx: Context,
  options: RuleBuildOptions = {},
): Pattern[] {
  const out: Pattern[] = []
  const addresses = o.addresses ?? 'none'
  if (addresses !== 'none') {
    const names = addresses === 'names'
    for (const h of ctx.inventory) {
      const to = names ? h.name : h.new
      out.push({
        find: h.old,
        replace: to,
        rule: 'addresses',
        boundary: 'ipv4',
        kind: 'address',
        ...(names ? { address: h.new } : {}),
      })
      if (h.old6 === undefined) continue
      // without new6 the IPv6 address stays an address: a name only where a name may stand
      const to6 = names ? h.name : (h.new6 ?? h.old6)
      out.push({
        find: h.old6,
        replace: to6,
        rule: 'addresses',
        boundary: 'ipv6',
        kind: 'address',
        ...(names ? { address: h.new6 ?? h.old6 } : {}),
      })
    }
    out.push(...networkPatterns(ctx, names ? 'names' : 'new'))
  }
  for (const [from, to] of Object.entries(o.replace ?? {})) {
    out.push({
      find: from,
      replace: to,
      rule: 'replace',
      boundary: boundaryFor(from),
      kind: 'name',
    })
  }
  // a keyed swap moves only the values of its keys: another step may swap the same pair in others
  const keys = o.keys ? ` in keys [${[...new Set(o.keys)].sort().join(', ')}]` : ''
  for (const [a, b] of o.swap ?? []) {
    // a swap is its own inverse: it is done once per file, whichever way round the pair is written
    const once = `swap [${[a, b].sort().join(', ')}]${keys}`
    out.push({ find: a, replace: b, rule: 'swap', boundary: boundaryFor(a), kind: 'name', once })
    out.push({ find: b, replace: a, rule: 'swap', boundary: boundaryFor(b), kind: 'name', once })
  }
  for (const group of o.variants ?? []) {
    out.push(...variantPatterns(group, ctx, options.variantBoundary ?? 'token'))
  }
  return out
}

/** The inventory's old addresses, which the network rules leave to the hosts' own patterns. */
const hostAddresses = new WeakMap<Context, ReadonlySet<string>>()

/** One pattern per network of the context (`networks:`), in `mode` (see {@link NetworkRule}). */
function networkPatterns(ctx: Context, mode: NetworkRule['mode']): Pattern[] {
  const networks = ctx.networks ?? []
  if (networks.length === 0) return []
  let hosts = hostAddresses.get(ctx)
  if (!hosts) hostAddresses.set(ctx, (hosts = new Set(ctx.inventory.map((h) => h.old))))
  const out: Pattern[] = []
  for (const n of networks) {
    const p = networkPattern(
      { old: n.old, new: n.new, mode, hosts },
      mode === 'leftover' ? 'leftover' : 'addresses',
      `old address in network ${n.old}`,
    )
    if (p) out.push(p)
  }
  return out
}

/** Patterns turning every profile's value of a variant group into the active profile's. */
export function variantPatterns(group: string, ctx: Context, boundary: Boundary): Pattern[] {
  const entries = ctx.variants[group] ?? []
  const active = ctx.profile
  const out: Pattern[] = []
  if (!active) return out
  for (const entry of entries) {
    const to = entry[active]
    if (to === undefined) continue
    for (const value of Object.values(entry)) {
      out.push({ find: value, replace: to, rule: `variants.${group}`, boundary, kind: 'variant' })
    }
  }
  return out
}

/**
 * Patterns for leftovers: every old inventory address that moves (old ≠ new; `old6` too, unless
 * `new6` is the same address), every address of a network that moves, every old host name a
 * `replace:` of an active step renames ({@link Context.renames}), and every variant value of
 * another profile. Active-profile values come as identities so that `oas.staff.test` is
 * consumed whole and never reported as holding `oas.staff`.
 */
export function leftoverPatterns(ctx: Context, variantBoundary: Boundary = 'token'): Pattern[] {
  const out: Pattern[] = []
  const seen = new Set<string>()
  for (const h of ctx.inventory) {
    if (h.old === h.new || seen.has(h.old)) continue
    seen.add(h.old)
    out.push({ find: h.old, replace: h.old, rule: 'leftover', boundary: 'ipv4', kind: 'address' })
  }
  for (const h of ctx.inventory) {
    if (h.old6 === undefined || seen.has(h.old6)) continue
    if (h.new6 !== undefined && sameIPv6(h.old6, h.new6)) continue
    seen.add(h.old6)
    out.push({
      find: h.old6,
      replace: h.old6,
      rule: 'leftover',
      boundary: 'ipv6',
      kind: 'address',
    })
  }
  out.push(...networkPatterns(ctx, 'leftover'))
  for (const r of ctx.renames ?? []) {
    if (seen.has(r.from)) continue
    seen.add(r.from)
    out.push({
      find: r.from,
      replace: r.from,
      rule: 'leftover',
      // whole dotted tokens: `mentat-alt` renamed, `mentat-alt.cesnet.cz` (another name, which
      // a swap may write) is no leftover of it
      boundary: 'token',
      kind: 'name',
      leftover: `old name: renamed to ${r.to} by step ${r.step}`,
    })
  }
  for (const group of Object.keys(ctx.variants)) {
    for (const p of variantPatterns(group, ctx, variantBoundary)) {
      if (seen.has(p.find)) continue
      seen.add(p.find)
      // identity for the active value; the others are what a leftover looks for
      out.push({ ...p, replace: p.find, rule: p.find === p.replace ? 'active' : 'leftover' })
    }
  }
  return out
}

/** Whether two spellings are one IPv6 address. */
function sameIPv6(a: string, b: string): boolean {
  const x = canonicalIPv6(a)
  return x !== undefined && x === canonicalIPv6(b)
}

/** A host name as a rename's ends must be: letters, digits, `-` and `.`, with a letter; not an address. */
const RENAMED_NAME = /^(?=[A-Za-z0-9.-]*[A-Za-z])[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$/

/**
 * The old host names the active steps rename (the leftovers {@link Context.renames} reports): a
 * `replace:` key that is a host name whose value is a host name too, unless the name is also a
 * value of some `replace:` or `swap` (it is then written back somewhere, and may stay). `step`
 * is the step's 1-based place in `steps:`.
 */
export function renamesOf(steps: ReadonlyArray<{ index: number; options: RuleOptions }>): Rename[] {
  const written = new Set<string>()
  for (const s of steps) {
    for (const v of Object.values(s.options.replace ?? {})) written.add(v)
    for (const [a, b] of s.options.swap ?? []) written.add(a).add(b)
  }
  const out: Rename[] = []
  for (const s of steps)
    for (const [from, to] of Object.entries(s.options.replace ?? {}))
      if (RENAMED_NAME.test(from) && RENAMED_NAME.test(to) && !written.has(from))
        out.push({ from, to, step: s.index + 1 })
  return out
}
