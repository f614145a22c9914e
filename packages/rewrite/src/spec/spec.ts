import { resolve } from 'node:path'
import { isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml'
import type { Diagnostic, Range } from '../diff/diagnostic.js'
import { rootPathProblem } from '../fs/confine.js'
import { SpecError } from '../errors.js'
import { IPV4, isIPv4 } from '../match/match.js'
import {
  canonicalIPv6,
  formatIPv4,
  inNet,
  ipv4Value,
  mapAddress,
  parseCidr,
  type Net,
} from '../match/network.js'
import {
  array,
  integer,
  mapPairs,
  object,
  rangeOf,
  record,
  refine,
  string,
  type JsonSchema,
  type Schema,
  type SchemaContext,
} from './schema.js'
import { sha256 } from '../text/source.js'
import { checksShape, type SpecCheck } from './checks.js'
import {
  commonKeys,
  onMachines,
  type CommonOptions,
  type InventoryHost,
  type NetworkMap,
  type RuleOptions,
  type StepKind,
  type VariantEntry,
} from '../step/step.js'
import { idleKeysProblem } from '../step/keys.js'
import {
  checkWholeSteps,
  isWholeKind,
  needsMachines,
  WHOLE_KINDS,
  wholeOptions,
  type WholeStep,
} from './whole.js'

/** One step of a spec: its kind, its validated options, and where it stands in the YAML. */
export interface SpecStep {
  kind: string
  options: CommonOptions & Record<string, unknown>
  /** 0-based position in `steps:`. */
  index: number
  range: Range
}

/** A validated `cutover.yaml` (version 1). */
export interface Spec {
  path: string
  source: string
  /** `sha256:` of the spec's bytes: a saved plan records it. */
  hash: string
  version: 1
  hosts: InventoryHost[]
  /** The networks that move (`networks:`), base addresses normalised; empty when absent. */
  networks: NetworkMap[]
  profiles: string[]
  variants: Record<string, VariantEntry[]>
  secrets: Record<string, { env: string }>
  /**
   * The machines of a fleet (`machines:`), in the spec's order; absent without `machines:`
   * (then the single `--root` of the command).
   */
  machines?: SpecMachine[]
  /** Files scanned for leftovers although no step rewrites them (`on`: only on these machines). */
  scan?: { files: string[]; exclude?: string[]; on?: string[] }
  /** Leftovers that may stay (`accept:`): they do not fail `verify --strict`. */
  accept?: AcceptEntry[]
  /** What `cutover check` also checks from the machines (`checks:`), in spec order. */
  checks?: SpecCheck[]
  /** When the machines are an Ansible inventory's: the file as named, and its groups. */
  inventory?: { file: string; groups: Readonly<Record<string, readonly string[]>> }
  steps: SpecStep[]
  /**
   * The whole-file steps (`copy`, `exchange`; docs/design.md §5), in spec order: they write files
   * between machines and edit no text, so the engine's `steps` do not hold them (their `index`
   * is their place among all of `steps:`).
   */
  whole: WholeStep[]
  /** Where the steps read `{ secret: NAME }`: the secret, the step's index, the range of the name. */
  secretUses: SecretUse[]
}

/**
 * One machine of `machines:`: reached with `ssh` (a destination as `ssh` takes it, and `port`),
 * or a local directory without it; `root` is the path on that machine that spec paths are
 * relative to (default `/`): absolute for an ssh machine; a local directory's may be relative, to
 * the spec file's directory, as written here (the CLI resolves it: {@link resolveMachineRoots}).
 */
export interface SpecMachine {
  name: string
  ssh?: string
  port?: number
  root: string
}

/** An accepted leftover: in files matching `path`, the leftover `text` may stay, for `reason`. */
export interface AcceptEntry {
  path: string
  text: string
  reason: string
  profiles?: string[]
  range: Range
}

/** One `{ secret: NAME }` in a step, located in the spec. */
export interface SecretUse {
  name: string
  step: number
  range: Range
}

/**
 * The machines of an Ansible inventory, read by the caller (`ansible-inventory`): the spec's
 * `machines: { ansible: FILE }`, or the machines of a spec without `machines:`.
 */
export interface SpecInventory {
  /** The inventory as the user named it, for messages. */
  file: string
  /** Its hosts as machines, in its order; roots absolute (a local one resolved already). */
  machines: SpecMachine[]
  /** Each group (`all` too) → its hosts (its child groups' included): `@group` in `on`. */
  groups: Readonly<Record<string, readonly string[]>>
}

/** What {@link parseSpec} also checks when given: the environment and profile a plan will use. */
export interface SpecCheckOptions {
  /**
   * The Ansible inventory whose hosts are the machines: required by `machines: { ansible: FILE }`
   * (the caller reads FILE, relative to the spec's directory, with {@link specInventoryFile}'s
   * help); given for a spec without `machines:`, it makes its hosts the machines.
   */
  inventory?: SpecInventory
  /** Every secret an active step reads must be set here; each one missing is an error at its use. */
  env?: Readonly<Record<string, string | undefined>>
  /** The profile to plan; steps of other profiles need no secrets. */
  profile?: string
}

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/
// the pattern is isIPv4's, so the JSON Schema checks addresses too; the check stays the authority
const IPV4_PATTERN = IPV4
const ipv4 = string({
  describe: 'an IPv4 address such as 10.0.10.48',
  pattern: IPV4_PATTERN,
  check: (v) => (isIPv4(v) ? undefined : `expected an IPv4 address such as 10.0.10.48, got "${v}"`),
})
const ipv6 = string({
  describe: 'an IPv6 address such as 2001:db8::10',
  check: (v) =>
    canonicalIPv6(v) === undefined
      ? `expected an IPv6 address such as 2001:db8::10, got "${v}"`
      : undefined,
})
const hostShape = object(
  { old: ipv4, new: ipv4, old6: ipv6, new6: ipv6 },
  {
    required: ['old', 'new'],
    check: (v, node, ctx) => {
      if (v.new6 !== undefined && v.old6 === undefined)
        ctx.errors.push({
          code: 'SPEC_VALUE',
          message: 'new6 needs old6: the IPv6 address the host had',
          range: rangeOf(valueOf(node, 'new6'), { start: 0, end: 0 }),
        })
    },
  },
)
/** A network as `networks:` writes it: `a.b.c.d/len`, host bits zero, a prefix of 8 or more. */
const cidr = string({
  describe: 'an IPv4 network such as 172.20.0.0/24 (host bits zero, prefix 8-32)',
  pattern: /^\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}$/,
  check: (v) => {
    const n = parseCidr(v)
    if (typeof n === 'string') return n
    return n.len < 8
      ? `${v}: a network of networks: needs a prefix of 8 or more (its addresses are found by their leading octets)`
      : undefined
  },
})
const networkShape = object(
  { old: cidr, new: cidr },
  { required: ['old', 'new'], describe: 'a mapping { old: CIDR, new: CIDR }' },
)
const name = /^[A-Za-z_][A-Za-z0-9_.-]*$/
/**
 * A machine name: it becomes part of labels (`finance:etc/hosts`), file names and messages, so
 * it never starts with `-` (it could never be read as an option) and has no whitespace, `:` or `/`.
 */
const MACHINE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/
const machineName = string({
  describe: 'a machine name (letters, digits, _ . -; not starting with - or .)',
  check: (v) =>
    MACHINE_NAME.test(v)
      ? undefined
      : `machine name "${v}" ${/^[-.]/.test(v) ? `starts with "${v[0]}"` : /[\s]/.test(v) ? 'has whitespace' : /[:/]/.test(v) ? 'has ":" or "/"' : 'has a character other than letters, digits, _ . -'}: a machine name is letters, digits, _ . - and never starts with - or .`,
})
/** Whether `v` has a control character (C0 or DEL). */
const hasControl = (v: string) => [...v].some((c) => c < ' ' || c === '\u007f')
/**
 * The spec with every local-directory machine's relative root resolved against `specDir` (the
 * directory of the spec file): plans and journals record absolute roots only.
 */
export function resolveMachineRoots(spec: Spec, specDir: string): Spec {
  if (!spec.machines) return spec
  return {
    ...spec,
    machines: spec.machines.map((m) =>
      m.ssh === undefined && !m.root.startsWith('/') ? { ...m, root: resolve(specDir, m.root) } : m,
    ),
  }
}

/** The value node of `key` in a YAML mapping `node` (for an error at that value), else the mapping. */
function valueOf(node: unknown, key: string): unknown {
  if (!isMap(node)) return node
  const pair = node.items.find((p) => isScalar(p.key) && p.key.value === key)
  return pair?.value ?? node
}
const machineShape = object(
  {
    ssh: string({
      describe: 'an ssh destination ([user@]host or a Host alias of the ssh config)',
      pattern: /^[^\s-][^\s]*$/,
      check: (v) => (hasControl(v) ? 'an ssh destination has no control characters' : undefined),
    }),
    port: refine(
      integer('a TCP port (1-65535)'),
      (v) => (v >= 1 && v <= 65535 ? undefined : `expected a TCP port (1-65535), got ${v}`),
      (base) => ({ ...base, minimum: 1, maximum: 65535 }),
    ),
    root: string({
      describe:
        "the machine's root: an absolute path on the machine (default /); a local directory's may be relative to the spec's directory",
      check: (v) =>
        v === ''
          ? 'a root is a path: give the directory'
          : v.split('/').includes('..')
            ? `root "${v}" has a ".." part: give the path itself`
            : hasControl(v)
              ? 'a root has no control characters'
              : undefined,
    }),
  },
  {
    describe: 'a mapping { ssh?, port?, root? }',
    check: (v, node, ctx) => {
      // an ssh machine's root is a path on that machine: there is no directory it could be relative to
      if (v.ssh !== undefined && v.root !== undefined && !v.root.startsWith('/'))
        ctx.errors.push({
          code: 'SPEC_VALUE',
          message: `root "${v.root}" is relative: an ssh machine's root is the absolute path on the machine (only a local directory's root may be relative to the spec's directory)`,
          range: rangeOf(valueOf(node, 'root'), { start: 0, end: 0 }),
        })
      if (v.port !== undefined && v.ssh === undefined)
        ctx.errors.push({
          code: 'SPEC_VALUE',
          message: 'port needs ssh: a machine without ssh is a local directory',
          range: rangeOf(node, { start: 0, end: 0 }),
        })
    },
  },
)

function topShape(kinds: readonly StepKind<unknown>[], whole: WholeStep[] = []) {
  return {
    version: refine(
      integer('the spec version 1'),
      (v) => (v === 1 ? undefined : `unsupported spec version ${v}; this cutover reads version 1`),
      (base) => ({ ...base, const: 1, description: 'the spec version: 1' }),
    ),
    hosts: record(hostShape, {
      key: string({ describe: 'a DNS name', pattern: HOSTNAME }),
      describe: 'a mapping of DNS names to { old: IPv4, new: IPv4, old6?: IPv6, new6?: IPv6 }',
    }),
    networks: array(networkShape, {
      describe: 'a list of { old: CIDR, new: CIDR }: networks whose addresses move',
    }),
    profiles: refine(
      array(string({ describe: 'a profile name', pattern: name }), { minItems: 1 }),
      (v) => {
        const dup = v.find((p, i) => v.indexOf(p) !== i)
        return dup ? `profile "${dup}" is listed twice` : undefined
      },
      (base) => ({ ...base, uniqueItems: true }),
    ),
    variants: record(
      array(
        record(string({ describe: 'a value' }), { describe: 'a mapping of profile to value' }),
        { minItems: 1 },
      ),
      {
        key: string({ describe: 'a variant group name', pattern: name }),
        describe: 'a mapping of group names to lists of { profile: value }',
      },
    ),
    secrets: record(
      object(
        {
          env: string({
            describe: 'an environment variable name',
            pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
          }),
        },
        { required: ['env'] },
      ),
      {
        key: string({ describe: 'a secret name', pattern: name }),
        describe: 'a mapping of secret names to { env: VARIABLE }',
      },
    ),
    scan: object(
      {
        files: array(string({ describe: 'a glob relative to the root', check: rootPathProblem }), {
          minItems: 1,
        }),
        exclude: array(string({ describe: 'a glob', check: rootPathProblem })),
        on: onMachines,
      },
      { required: ['files'] },
    ),
    accept: array(
      object(
        {
          path: string({ describe: 'a glob relative to the root', check: rootPathProblem }),
          text: string({
            describe: 'the text of the leftover, as the plan shows it',
            pattern: /\S/,
          }),
          reason: string({ describe: 'why it may stay', pattern: /\S/ }),
          profiles: commonKeys.profiles,
        },
        {
          required: ['path', 'text', 'reason'],
          describe: 'a mapping { path: GLOB, text: TEXT, reason: WHY } (and profiles: [...])',
        },
      ),
      { describe: 'leftovers accepted: listed as such, and not failing verify --strict' },
    ),
    machines: refine(
      record(machineShape, {
        key: machineName,
        describe: 'a mapping of machine names to { ssh?, port?, root? }',
      }),
      (v) => (Object.keys(v).length ? undefined : 'expected at least one machine'),
      (base) => ({
        anyOf: [
          {
            type: 'object',
            properties: {
              ansible: {
                type: 'string',
                description:
                  'an Ansible inventory (relative to the spec): its hosts are the machines, its groups usable in on: as @group',
              },
            },
            required: ['ansible'],
            additionalProperties: false,
          },
          { ...base, minProperties: 1 },
        ],
      }),
    ),
    checks: checksShape,
    steps: array(stepSchema(kinds, whole), { describe: 'a list of steps' }),
  }
}

/**
 * The schema of one item of `steps:`: a mapping with exactly one key, the step kind. Each valid
 * whole-file step is also added to `whole`, so that they are checked against each other even when
 * another step has an error.
 */
function stepSchema(
  kinds: readonly StepKind<unknown>[],
  whole: WholeStep[],
): Schema<SpecStep | WholeStep> {
  const names = [...kinds.map((k) => k.name), ...WHOLE_KINDS]
  const expected = `a step: a mapping with one key, the kind (${names.join(', ')})`
  let index = 0
  return {
    expected,
    parse(node, ctx, at) {
      const pairs = mapPairs(node, ctx)
      const myIndex = index++
      if (!pairs || pairs.length !== 1) {
        ctx.errors.push({
          code: 'SPEC_STEP',
          message: `expected ${expected}`,
          range: rangeOf(node, at),
        })
        return undefined
      }
      const { key, value } = pairs[0]!
      const kindName = isScalar(key) ? String(key.value) : ''
      if (isWholeKind(kindName)) {
        if (ctx.refs.machines.length === 0) needsMachines(kindName, rangeOf(key, at), ctx)
        const options = wholeOptions(kindName).parse(value, ctx, rangeOf(key, at))
        if (options === undefined) return undefined
        const step = { kind: kindName, options, index: myIndex, range: rangeOf(node, at) }
        whole.push(step as WholeStep)
        return step as WholeStep
      }
      const kind = kinds.find((k) => k.name === kindName)
      if (!kind) {
        ctx.errors.push({
          code: 'SPEC_STEP',
          message: `unknown step kind "${kindName}"; expected one of: ${names.join(', ')}`,
          range: rangeOf(key, at),
        })
        return undefined
      }
      const uses = ctx.secretUses?.length ?? 0
      const options = kind.options.parse(value, ctx, rangeOf(key, at))
      for (const u of ctx.secretUses?.slice(uses) ?? []) u.step = myIndex
      if (options === undefined) return undefined
      const idle = idleKeysProblem(options as RuleOptions)
      if (idle) {
        const k = mapPairs(value, ctx)?.find((p) => isScalar(p.key) && p.key.value === 'keys')
        ctx.errors.push({ code: 'SPEC_VALUE', message: idle, range: rangeOf(k?.key, at) })
        return undefined
      }
      return {
        kind: kind.name,
        options: options as SpecStep['options'],
        index: myIndex,
        range: rangeOf(node, at),
      }
    },
    json: () => ({
      oneOf: [
        ...kinds.map((k) => [k.name, k.options] as const),
        ...WHOLE_KINDS.map((w) => [w, wholeOptions(w)] as const),
      ].map(([n, options]) => ({
        type: 'object',
        properties: { [n]: options.json() },
        required: [n],
        additionalProperties: false,
      })),
    }),
  }
}

/** The JSON Schema of `cutover.yaml` for these step kinds, generated from the validator's definition. */
export function specJsonSchema(kinds: readonly StepKind<unknown>[]): JsonSchema {
  const shape = topShape(kinds)
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'cutover.yaml (version 1)',
    ...object(shape, { required: ['version', 'steps'] }).json(),
  }
}

/** A spec's source parsed as YAML (see {@link parseSpecDocument}). */
export type SpecDocument = ReturnType<typeof parseDocument>

/**
 * The YAML document of a spec's `source`, as {@link parseSpec} and {@link specInventoryFile}
 * parse it: given to them (and read by a caller that looks at the spec before parsing it), the
 * source is parsed once instead of once each. Never throws: YAML errors are in its `errors`.
 */
export function parseSpecDocument(source: string): SpecDocument {
  return parseDocument(source, { prettyErrors: false, uniqueKeys: false })
}

/**
 * Parses and validates a spec. Every problem is collected (YAML syntax, types, unknown keys,
 * unknown references) and thrown at once as a {@link SpecError}; nothing is half-loaded. `doc`:
 * the source already parsed by {@link parseSpecDocument} (it is only read).
 */
export function parseSpec(
  source: string,
  path: string,
  kinds: readonly StepKind<unknown>[],
  check: SpecCheckOptions = {},
  doc: SpecDocument = parseSpecDocument(source),
): Spec {
  const errors: Diagnostic[] = doc.errors.map((e) => ({
    code: 'YAML_SYNTAX',
    message: e.message.split('\n')[0]!,
    range: { start: e.pos[0], end: e.pos[1] },
  }))
  if (errors.length) throw new SpecError(path, source, errors)
  const whole = { start: 0, end: Math.max(1, source.length) }
  const secretUses: SecretUse[] = []
  const ctx: SchemaContext = {
    doc,
    errors,
    refs: { profiles: [], variants: [], secrets: [], hosts: [], machines: [] },
    secretUses,
  }
  const root = doc.contents
  if (!isMap(root)) {
    errors.push({
      code: 'SPEC_TYPE',
      message: 'expected a mapping with version, hosts, profiles, variants, secrets, steps',
      range: rangeOf(root, whole),
    })
    throw new SpecError(path, source, errors)
  }
  const parsedWhole: WholeStep[] = []
  const shape = topShape(kinds, parsedWhole)
  const nodes = new Map<string, { key: unknown; value: unknown }>()
  for (const pair of mapPairs(root, ctx) ?? []) {
    const key = isScalar(pair.key) ? String(pair.key.value) : ''
    if (!(key in shape)) {
      errors.push({
        code: 'SPEC_UNKNOWN_KEY',
        message: `unknown key "${key}"; expected one of: ${Object.keys(shape).join(', ')}`,
        range: rangeOf(pair.key, whole),
      })
    } else if (nodes.has(key)) {
      errors.push({
        code: 'SPEC_DUPLICATE',
        message: `"${key}" is given twice`,
        range: rangeOf(pair.key, whole),
      })
    } else nodes.set(key, pair)
  }
  const take = <T>(key: keyof typeof shape, schema: Schema<T>): T | undefined => {
    const n = nodes.get(key)
    return n ? schema.parse(n.value, ctx, rangeOf(n.key, whole)) : undefined
  }
  for (const required of ['version', 'steps'] as const) {
    if (!nodes.has(required))
      errors.push({
        code: 'SPEC_MISSING_KEY',
        message: `missing key "${required}"`,
        range: { start: 0, end: 0 },
      })
  }
  // a section with an error still gives its valid entries to the cross-checks and references
  // below, so that every error is reported in one run (not a false "unknown profile" either)
  const partial = <T>(
    key: 'hosts' | 'variants' | 'secrets' | 'machines',
    value: Schema<T>,
  ): Record<string, T> => {
    const out: Record<string, T> = {}
    for (const { key: k, value: v } of mapPairs(nodes.get(key)?.value, ctx) ?? []) {
      const n = isScalar(k) ? String(k.value) : ''
      const parsed =
        n in out
          ? undefined
          : value.parse(v, { ...ctx, errors: [], secretUses: [] }, rangeOf(k, whole))
      if (parsed !== undefined) out[n] = parsed
    }
    return out
  }
  const version = take('version', shape.version)
  const hostsMap = take('hosts', shape.hosts) ?? partial('hosts', hostShape)
  const networks = take('networks', shape.networks) ?? []
  const profiles = take('profiles', shape.profiles) ?? scalars(nodes.get('profiles')?.value, ctx)
  const variants = take('variants', shape.variants) ?? partial('variants', array(record(string())))
  const secrets =
    take('secrets', shape.secrets) ??
    partial('secrets', object({ env: string() }, { required: ['env'] }))
  const ansible = ansibleMachines(nodes.get('machines'), check.inventory, ctx, whole)
  const machinesMap = ansible
    ? {}
    : (take('machines', shape.machines) ?? partial('machines', machineShape))
  // a machine whose entry has an error is still one for `on`: one mistake, one error
  const machineNames = ansible
    ? ansible.machines.map((m) => m.name)
    : (mapPairs(nodes.get('machines')?.value, ctx) ?? [])
        .map(({ key }) => (isScalar(key) ? String(key.value) : ''))
        .filter((n) => MACHINE_NAME.test(n))
  ctx.refs = {
    ...ctx.refs,
    machines: ansible || nodes.has('machines') ? machineNames : [],
    groups: ansible?.groups ?? {},
  }
  const scan = take('scan', shape.scan)
  checkVariants(nodes.get('variants')?.value, variants, profiles, ctx)
  checkAddresses(nodes.get('hosts')?.value, hostsMap, ctx)
  checkNetworks(nodes.get('networks')?.value, nodes.get('hosts')?.value, hostsMap, ctx)
  ctx.refs = {
    profiles,
    variants: Object.keys(variants),
    secrets: Object.keys(secrets),
    hosts: Object.keys(hostsMap),
    machines: ctx.refs.machines,
    groups: ctx.refs.groups ?? {},
  }
  const allSteps = take('steps', shape.steps) ?? []
  const steps = allSteps.filter((s): s is SpecStep => !isWholeKind(s.kind))
  const wholeSteps = allSteps.filter((s): s is WholeStep => isWholeKind(s.kind))
  errors.push(...checkWholeSteps(parsedWhole))
  const acceptNode = nodes.get('accept')?.value as { items?: unknown[] } | undefined
  const accept = take('accept', shape.accept)?.map((a, i) => ({
    ...a,
    range: rangeOf(acceptNode?.items?.[i], whole),
  }))
  const checks = take('checks', shape.checks)
  if (check.env)
    errors.push(
      ...missingSecrets({ profiles, secrets, secretUses, steps }, check.env, check.profile),
    )
  if (errors.length)
    throw new SpecError(
      path,
      source,
      errors.sort((a, b) => a.range.start - b.range.start),
    )
  return {
    path,
    source,
    hash: sha256(source),
    version: version as 1,
    hosts: Object.entries(hostsMap).map(([n, h]) => ({
      name: n,
      old: h.old,
      new: h.new,
      ...(h.old6 !== undefined ? { old6: h.old6 } : {}),
      ...(h.new6 !== undefined ? { new6: h.new6 } : {}),
    })),
    networks,
    profiles,
    variants,
    secrets,
    ...(ansible
      ? {
          machines: ansible.machines.map((m) => ({ ...m })),
          inventory: { file: ansible.file, groups: ansible.groups },
        }
      : {}),
    ...(!ansible && nodes.has('machines')
      ? {
          machines: Object.entries(machinesMap).map(([n, m]) => ({
            name: n,
            ...(m.ssh !== undefined ? { ssh: m.ssh } : {}),
            ...(m.port !== undefined ? { port: m.port } : {}),
            root: m.root ?? '/',
          })),
        }
      : {}),
    ...(scan ? { scan } : {}),
    ...(accept ? { accept } : {}),
    ...(checks ? { checks } : {}),
    steps,
    whole: wholeSteps,
    secretUses,
  }
}

/** Whether a `machines:` value is `{ ansible: FILE }`: a mapping whose `ansible` key holds a scalar. */
function ansibleNode(
  value: unknown,
  ctx: SchemaContext,
): { key: unknown; value: unknown } | undefined {
  const pair = mapPairs(value, ctx)?.find((p) => isScalar(p.key) && p.key.value === 'ansible')
  const v = isAlias(pair?.value) ? pair.value.resolve(ctx.doc) : pair?.value
  return pair && (isScalar(v) || v == null) ? pair : undefined
}

/**
 * The machines of an Ansible inventory, when they are the spec's: `machines: { ansible: FILE }`
 * (a mapping of that one key; the caller read FILE into `inventory`), or a spec without
 * `machines:` given an inventory. Errors at their line:col: other keys beside `ansible`, FILE
 * not a path, no inventory read for it, an inventory given to a spec that lists its machines.
 */
function ansibleMachines(
  machines: { key: unknown; value: unknown } | undefined,
  inventory: SpecInventory | undefined,
  ctx: SchemaContext,
  whole: Range,
): SpecInventory | undefined {
  const at = rangeOf(machines?.key, whole)
  if (!machines) return inventory
  const pair = ansibleNode(machines.value, ctx)
  if (!pair) {
    if (inventory)
      ctx.errors.push({
        code: 'SPEC_VALUE',
        message: `the machines are the Ansible inventory ${inventory.file}'s, and the spec lists its own: remove one (machines: { ansible: FILE } takes them from an inventory)`,
        range: at,
      })
    return undefined
  }
  for (const other of mapPairs(machines.value, ctx) ?? [])
    if (other !== pair && !(isScalar(other.key) && other.key.value === 'ansible'))
      ctx.errors.push({
        code: 'SPEC_VALUE',
        message:
          "with machines: { ansible: FILE } the machines are the inventory's hosts: declare this one in the inventory",
        range: rangeOf(other.key, at),
      })
  const file = string({ describe: 'the path of an Ansible inventory', pattern: /\S/ }).parse(
    pair.value,
    ctx,
    rangeOf(pair.key, at),
  )
  if (file !== undefined && !inventory)
    ctx.errors.push({
      code: 'SPEC_VALUE',
      message: `machines: { ansible: ${file} } needs the inventory read with ansible-inventory (the cutover command does it)`,
      range: rangeOf(pair.value, at),
    })
  // the machines are the inventory's even when the entry has an error: `on` is checked against them
  return inventory ?? { file: file ?? '', machines: [], groups: {} }
}

/**
 * The file of `machines: { ansible: FILE }` in a spec's source, read before the spec is parsed
 * (the caller reads the inventory, relative to the spec's directory, and gives it to
 * {@link parseSpec}); `listed` when the spec lists its machines itself; undefined without
 * `machines:` or when the source cannot tell (parseSpec reports why). `doc`: the source already
 * parsed by {@link parseSpecDocument}.
 */
export function specInventoryFile(
  source: string,
  doc: SpecDocument = parseSpecDocument(source),
): { ansible: string } | 'listed' | undefined {
  if (doc.errors.length || !isMap(doc.contents)) return undefined
  const ctx: SchemaContext = {
    doc,
    errors: [],
    refs: { profiles: [], variants: [], secrets: [], hosts: [], machines: [] },
  }
  const machines = mapPairs(doc.contents, ctx)?.find(
    (p) => isScalar(p.key) && p.key.value === 'machines',
  )
  if (!machines) return undefined
  const pair = ansibleNode(machines.value, ctx)
  if (!pair) return isMap(machines.value) ? 'listed' : undefined
  const v = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value
  return isScalar(v) && typeof v.value === 'string' && v.value.trim()
    ? { ansible: v.value }
    : undefined
}

/** The string items of a YAML list, for references when the list itself has an error. */
function scalars(node: unknown, ctx: SchemaContext): string[] {
  const seq = isAlias(node) ? node.resolve(ctx.doc) : node
  return isSeq(seq) ? [...new Set(seq.items.filter(isScalar).map((n) => String(n.value)))] : []
}

/**
 * One error per secret that a step active in `profile` reads and `env` does not hold, at its
 * first use in the spec: a plan needs them all, so they are all named at once.
 */
export function missingSecrets(
  spec: Pick<Spec, 'profiles' | 'secrets' | 'secretUses' | 'steps'>,
  env: Readonly<Record<string, string | undefined>>,
  profile: string | undefined,
): Diagnostic[] {
  // an unknown profile is reported elsewhere; then every step's secrets are checked
  const known = profile !== undefined && spec.profiles.includes(profile)
  const active = (i: number) => {
    const p = spec.steps.find((s) => s.index === i)?.options.profiles
    return !p || !known || p.includes(profile!)
  }
  const out: Diagnostic[] = []
  const seen = new Set<string>()
  for (const u of spec.secretUses) {
    const def = spec.secrets[u.name]
    if (!def || seen.has(u.name) || !active(u.step)) continue
    const v = env[def.env]
    if (v !== undefined && v !== '') continue
    seen.add(u.name)
    out.push({
      code: 'SPEC_SECRET',
      message: `secret "${u.name}" is not set: export ${def.env} before planning or applying`,
      range: u.range,
    })
  }
  return out
}

function checkVariants(
  node: unknown,
  variants: Record<string, VariantEntry[]>,
  profiles: readonly string[],
  ctx: SchemaContext,
): void {
  const groups = mapPairs(node, ctx) ?? []
  for (const { key, value } of groups) {
    const group = isScalar(key) ? String(key.value) : ''
    const entries = variants[group]
    if (!entries) continue
    const items = (value as { items?: unknown[] } | null)?.items ?? []
    entries.forEach((entry, i) => {
      const at = rangeOf(items[i], rangeOf(key, { start: 0, end: 0 }))
      if (profiles.length === 0) {
        ctx.errors.push({
          code: 'SPEC_VALUE',
          message: 'variants need profiles: declare `profiles:` first',
          range: at,
        })
        return
      }
      const keys = Object.keys(entry)
      const unknown = keys.filter((k) => !profiles.includes(k))
      const missing = profiles.filter((p) => !keys.includes(p))
      if (unknown.length || missing.length) {
        const parts = [
          missing.length ? `missing ${missing.join(', ')}` : '',
          unknown.length ? `unknown profile ${unknown.join(', ')}` : '',
        ].filter(Boolean)
        ctx.errors.push({
          code: 'SPEC_VALUE',
          message: `expected one value for each profile (${profiles.join(', ')}): ${parts.join('; ')}`,
          range: at,
        })
      }
    })
  }
}

/**
 * The networks of `networks:` against each other: an old network inside (or around) another old
 * one would give its addresses two new places, and one given twice is a mistake. What the spec
 * writes must not be moved again by a second plan: a new network overlapping an old one (but its
 * own, widened or narrowed in place), and a host's new address in an old network that would move
 * it (unless it is another host's old address, which that host's rule rewrites), are errors.
 */
function checkNetworks(
  node: unknown,
  hostsNode: unknown,
  hosts: Record<string, { old: string; new: string }>,
  ctx: SchemaContext,
): void {
  const olds: Array<{ net: Net; to: Net; text: string; item: unknown }> = []
  const overlap = (a: Net, b: Net) => (a.len <= b.len ? inNet(b.base, a) : inNet(a.base, b))
  // every valid item, also when another has an error: one run reports every mistake
  for (const item of isSeq(node) ? node.items : []) {
    const n = networkShape.parse(item, { ...ctx, errors: [], secretUses: [] }, { start: 0, end: 0 })
    if (n === undefined) continue
    const net = parseCidr(n.old) as Net
    const other = olds.find((o) => overlap(o.net, net))
    if (other)
      ctx.errors.push({
        code: 'SPEC_VALUE',
        message: `old network ${n.old} overlaps old network ${other.text}: an address would move to two places`,
        range: rangeOf(valueOf(item, 'old'), { start: 0, end: 0 }),
      })
    else olds.push({ net, to: parseCidr(n.new) as Net, text: n.old, item })
  }
  for (const n of olds) {
    const other = olds.find((o) => overlap(o.net, n.to) && (o !== n || o.net.base !== n.to.base))
    if (other)
      ctx.errors.push({
        code: 'SPEC_VALUE',
        message: `new network ${formatIPv4(n.to.base)}/${n.to.len} overlaps old network ${other.text}: a second plan would move its addresses again`,
        range: rangeOf(valueOf(n.item, 'new'), { start: 0, end: 0 }),
      })
  }
  const oldAddresses = new Set(Object.values(hosts).map((h) => h.old))
  for (const { key, value } of mapPairs(hostsNode, ctx) ?? []) {
    const h = isScalar(key) ? hosts[String(key.value)] : undefined
    const a = h && !oldAddresses.has(h.new) ? ipv4Value(h.new) : undefined
    const n = a === undefined ? undefined : olds.find((o) => inNet(a, o.net))
    if (!h || !n || mapAddress(a!, n.net, n.to) === a) continue
    ctx.errors.push({
      code: 'SPEC_VALUE',
      message: `new address ${h.new} of "${String((key as { value: unknown }).value)}" is in old network ${n.text}, which a second plan would move again`,
      range: rangeOf(valueOf(value, 'new'), { start: 0, end: 0 }),
    })
  }
}

function checkAddresses(
  node: unknown,
  hosts: Record<string, { old: string; new: string; old6?: string }>,
  ctx: SchemaContext,
): void {
  const owner = new Map<string, string>()
  const seen = new Set<string>()
  const names = new Map<string, string>()
  for (const { key } of mapPairs(node, ctx) ?? []) {
    const hostName = isScalar(key) ? String(key.value) : ''
    const h = hosts[hostName]
    // a name given twice is reported as such; its first entry is the one checked
    if (!h || seen.has(hostName)) continue
    seen.add(hostName)
    // DNS names ignore ASCII case and a final dot: `DB.example.net.` is `db.example.net` again
    const canonical = hostName.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/\.$/, '')
    const same = names.get(canonical)
    if (same !== undefined) {
      ctx.errors.push({
        code: 'SPEC_DUPLICATE',
        message: `"${hostName}" is the name "${same}" again (DNS names ignore case and a final dot)`,
        range: rangeOf(key, { start: 0, end: 0 }),
      })
      continue
    }
    names.set(canonical, hostName)
    const prior = owner.get(h.old)
    if (prior !== undefined) {
      ctx.errors.push({
        code: 'SPEC_VALUE',
        message: `old address ${h.old} of "${hostName}" is already the old address of "${prior}"`,
        range: rangeOf(key, { start: 0, end: 0 }),
      })
    } else owner.set(h.old, hostName)
    const old6 = h.old6 === undefined ? undefined : canonicalIPv6(h.old6)
    if (old6 === undefined) continue
    const prior6 = owner.get(old6)
    if (prior6 !== undefined)
      ctx.errors.push({
        code: 'SPEC_VALUE',
        message: `old6 address ${h.old6} of "${hostName}" is already the old6 address of "${prior6}"`,
        range: rangeOf(key, { start: 0, end: 0 }),
      })
    else owner.set(old6, hostName)
  }
}
