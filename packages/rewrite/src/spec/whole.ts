import picomatch from 'picomatch'
import { isScalar } from 'yaml'
import type { Diagnostic, Range } from '../diff/diagnostic.js'
import { rootPathProblem } from '../fs/confine.js'
import { commonKeys, type CommonOptions } from '../step/step.js'
import {
  array,
  boolean,
  expectedError,
  object,
  rangeOf,
  string,
  union,
  type Schema,
  type SchemaContext,
} from './schema.js'

/**
 * Where a whole-file step reads or writes: `MACHINE:PATH` (PATH relative to that machine's root)
 * or, for `copy.from` only, a path of the controller (relative to the spec's directory). A
 * trailing `/` makes it a directory tree.
 */
export type WholeLocation = MachineLocation | LocalLocation

/** A location on a machine of the spec: `path` relative to its root (`.` for the root), no trailing `/`. */
export interface MachineLocation {
  machine: string
  path: string
  tree: boolean
  range: Range
}

/** A path of the controller, as the spec writes it (relative to the spec's directory, or absolute). */
export interface LocalLocation {
  local: string
  tree: boolean
  range: Range
}

/** `copy`: a file or a tree of one machine (or of the controller) written to others. */
export interface CopyOptions {
  from: WholeLocation
  to: Array<MachineLocation>
  /** Remove target files (and links) that the source tree does not have. */
  delete?: boolean
  /** Show every file as a summary (`true`), or the files matching these globs (root-relative paths). */
  sensitive?: true | string[]
  profiles?: string[]
}

/** `exchange`: files swapped between two machines, once. */
export interface ExchangeOptions {
  pairs: Array<[MachineLocation, MachineLocation]>
  sensitive?: true | string[]
  profiles?: string[]
}

/** A `copy` or `exchange` step of a spec: a step that writes whole files between machines. */
export type WholeStep =
  | { kind: 'copy'; options: CopyOptions; index: number; range: Range }
  | { kind: 'exchange'; options: ExchangeOptions; index: number; range: Range }

/** The names of the whole-file step kinds, which the spec knows itself (they plan no file's text). */
export const WHOLE_KINDS = ['copy', 'exchange'] as const

/** Whether a step kind's name is a whole-file step's. */
export function isWholeKind(name: string): name is WholeStep['kind'] {
  return (WHOLE_KINDS as readonly string[]).includes(name)
}

const MACHINE_PREFIX = /^([A-Za-z0-9_][A-Za-z0-9_.-]*):(.*)$/s
const hasControl = (v: string) => [...v].some((c) => c < ' ' || c === '\u007f')

/** The schema of a location; `local` allows a controller path (copy's `from`). */
function location(local: boolean): Schema<WholeLocation> {
  const expected = local
    ? 'a location MACHINE:PATH or a local path (a trailing / for a directory tree)'
    : 'a location MACHINE:PATH (a trailing / for a directory tree)'
  return {
    expected,
    parse(node, ctx, at) {
      const resolved = node
      if (!isScalar(resolved) || typeof resolved.value !== 'string' || resolved.value === '')
        return expectedError(ctx, resolved, at, expected)
      const v = resolved.value
      const range = rangeOf(resolved, at)
      const fail = (message: string): undefined => {
        ctx.errors.push({ code: 'SPEC_VALUE', message, range })
        return undefined
      }
      if (hasControl(v)) return fail('a location has no control characters')
      const m = MACHINE_PREFIX.exec(v)
      if (!m) {
        if (!local)
          return fail(
            `"${v}" names no machine: expected MACHINE:PATH (a machine of machines:, then the path in its root)`,
          )
        const tree = v.endsWith('/')
        const path = tree ? v.replace(/\/+$/, '') || '/' : v
        return { local: path, tree, range }
      }
      const [, machine, rest] = m as unknown as [string, string, string]
      // without machines: the step itself is the error ("copy needs machines:")
      if (ctx.refs.machines.length && !ctx.refs.machines.includes(machine))
        return fail(
          `unknown machine "${machine}"; the spec's machines: ${ctx.refs.machines.join(', ')}`,
        )
      if (rest === '') return fail(`"${v}" has no path after the machine`)
      const problem = rootPathProblem(rest)
      if (problem) return fail(problem.replace('(--root)', `of machine ${machine}`))
      const tree = rest.endsWith('/')
      const path = rest.replace(/\/+$/, '').replace(/^(?:\.\/)+/, '') || '.'
      return { machine, path, tree, range }
    },
    json: () => ({
      type: 'string',
      ...(local ? {} : { pattern: MACHINE_PREFIX.source.replace('(.*)', '.+') }),
      description: expected,
    }),
  }
}

const sensitive: Schema<true | string[]> = union(
  onlyTrue(boolean()),
  array(string({ describe: 'a glob relative to the root', check: rootPathProblem }), {
    minItems: 1,
    describe: 'a list of globs (root-relative paths of sources and targets)',
  }),
  'true, or a list of globs of the files to show only as their size and hash',
)

/** `true` only: `sensitive: false` says nothing. */
function onlyTrue(b: Schema<boolean>): Schema<true> {
  return {
    expected: 'true',
    parse(node, ctx, at) {
      const v = b.parse(node, ctx, at)
      if (v === undefined) return undefined
      if (!v) {
        ctx.errors.push({
          code: 'SPEC_VALUE',
          message:
            'sensitive: false says nothing: remove it (files that look like keys stay sensitive)',
          range: rangeOf(node, at),
        })
        return undefined
      }
      return true
    },
    json: () => ({ const: true }),
  }
}

/** Whether two locations of one machine overlap (one is the other, or a tree holding it). */
function overlaps(a: MachineLocation, b: MachineLocation): boolean {
  if (a.machine !== b.machine) return false
  const under = (p: string, tree: MachineLocation) =>
    tree.tree && (tree.path === '.' || p.startsWith(`${tree.path}/`))
  return a.path === b.path || under(a.path, b) || under(b.path, a)
}

const label = (l: WholeLocation) =>
  'machine' in l ? `${l.machine}:${l.path}${l.tree ? '/' : ''}` : `${l.local}${l.tree ? '/' : ''}`

/** The options schema of the `copy` step. */
export const copyOptions: Schema<CopyOptions> = object(
  {
    from: location(true),
    to: union(
      location(false),
      array(location(false), { minItems: 1, describe: 'a list of locations MACHINE:PATH' }),
      'a location MACHINE:PATH or a list of them',
    ),
    delete: boolean(),
    sensitive,
    profiles: commonKeys.profiles,
  },
  {
    required: ['from', 'to'],
    describe:
      'a mapping { from: LOCATION, to: MACHINE:PATH or a list of them, delete?, sensitive?, profiles? }',
    check: (v, _node, ctx) => {
      const to = (Array.isArray(v.to) ? v.to : [v.to]) as MachineLocation[]
      const seen: MachineLocation[] = []
      for (const t of to) {
        const err = (message: string) =>
          ctx.errors.push({ code: 'SPEC_VALUE', message, range: t.range })
        if (v.from.tree !== t.tree)
          err(
            v.from.tree
              ? `from ${label(v.from)} is a directory tree and to ${label(t)} is a file: end it with / to copy the tree`
              : `from ${label(v.from)} is a file and to ${label(t)} is a directory tree: copy a tree from a tree (end from with /), or name the target file`,
          )
        else if ('machine' in v.from && overlaps(v.from, t))
          err(`to ${label(t)} is the source ${label(v.from)} itself, or overlaps it`)
        else if (seen.some((s) => overlaps(s, t))) err(`${label(t)} is written twice by this step`)
        seen.push(t)
      }
      if (v.delete && !v.from.tree)
        ctx.errors.push({
          code: 'SPEC_VALUE',
          message:
            'delete: true removes files a source tree lacks: from must be a tree (end it with /)',
          range: v.from.range,
        })
      ;(v as { to: unknown }).to = to
    },
  },
) as unknown as Schema<CopyOptions>

const pair: Schema<[MachineLocation, MachineLocation]> = {
  expected: 'a pair [MACHINE:PATH, MACHINE:PATH]',
  parse(node, ctx, at) {
    const items = array(location(false), { describe: 'a pair [MACHINE:PATH, MACHINE:PATH]' }).parse(
      node,
      ctx,
      at,
    ) as MachineLocation[] | undefined
    if (!items) return undefined
    const range = rangeOf(node, at)
    const fail = (message: string): undefined => {
      ctx.errors.push({ code: 'SPEC_VALUE', message, range })
      return undefined
    }
    if (items.length !== 2) return fail('an exchange pair is two locations [a:PATH, b:PATH]')
    const [a, b] = items as [MachineLocation, MachineLocation]
    if (a.tree || b.tree) {
      ctx.errors.push({
        code: 'SPEC_VALUE',
        message: `exchange swaps files: ${label(a.tree ? a : b)} is a directory tree (list its files as pairs)`,
        range: (a.tree ? a : b).range,
      })
      return undefined
    }
    if (a.machine === b.machine)
      return fail(
        `an exchange is between two machines: both sides of [${label(a)}, ${label(b)}] are on ${a.machine}`,
      )
    return [a, b]
  },
  json: () => ({
    type: 'array',
    items: location(false).json(),
    minItems: 2,
    maxItems: 2,
    description: 'a pair [MACHINE:PATH, MACHINE:PATH]',
  }),
}

/** The options schema of the `exchange` step. */
export const exchangeOptions: Schema<ExchangeOptions> = object(
  {
    pairs: array(pair, { minItems: 1, describe: 'a list of pairs [MACHINE:PATH, MACHINE:PATH]' }),
    sensitive,
    profiles: commonKeys.profiles,
  },
  {
    required: ['pairs'],
    describe: 'a mapping { pairs: [[MACHINE:PATH, MACHINE:PATH], …], sensitive?, profiles? }',
    check: (v, _node, ctx) => {
      const seen: MachineLocation[] = []
      for (const side of v.pairs.flat()) {
        if (seen.some((s) => overlaps(s, side)))
          ctx.errors.push({
            code: 'SPEC_VALUE',
            message: `${label(side)} is in two pairs of this exchange`,
            range: side.range,
          })
        seen.push(side)
      }
    },
  },
) as unknown as Schema<ExchangeOptions>

/** The locations a whole-file step writes to. */
export function wholeTargets(step: WholeStep): MachineLocation[] {
  return step.kind === 'copy' ? step.options.to : step.options.pairs.flat()
}

/**
 * The errors between whole-file steps: a file written by two of them (a path both copied to and
 * exchanged, or copied to twice) in a profile both run in, at the later location.
 */
export function checkWholeSteps(steps: readonly WholeStep[]): Diagnostic[] {
  const out: Diagnostic[] = []
  const together = (a: WholeStep, b: WholeStep) =>
    !a.options.profiles ||
    !b.options.profiles ||
    a.options.profiles.some((p) => b.options.profiles!.includes(p))
  steps.forEach((step, i) => {
    for (const t of wholeTargets(step))
      for (const other of steps.slice(0, i)) {
        if (!together(step, other)) continue
        const hit = wholeTargets(other).find((o) => overlaps(o, t))
        if (hit)
          out.push({
            code: 'SPEC_VALUE',
            message: `${label(t)} is written by step ${step.index + 1} (${step.kind}) and by step ${other.index + 1} (${other.kind}) at ${label(hit)}: a file is written by one step`,
            range: t.range,
          })
      }
  })
  return out
}

/** The schema of a whole-file step's options, by kind. */
export function wholeOptions(kind: WholeStep['kind']): Schema<CopyOptions | ExchangeOptions> {
  return kind === 'copy' ? copyOptions : exchangeOptions
}

/** The error of a whole-file step in a spec without machines. */
export function needsMachines(kind: string, range: Range, ctx: SchemaContext): void {
  ctx.errors.push({
    code: 'SPEC_VALUE',
    message: `${kind} needs machines: it writes files between the machines of machines: (declare them first)`,
    range,
  })
}

/** Whether a whole-file step marks a root-relative path sensitive (`sensitive: true`, or one of its globs). */
export function markedSensitive(step: WholeStep, path: string): boolean {
  const s = step.options.sensitive
  return s === true || (s !== undefined && picomatch(s, { dot: true })(path))
}

/**
 * The steps that edit text whose `files` (minus `exclude`) match a root-relative path on a
 * machine in a profile: the steps a whole-file step conflicts with when it writes or reads that
 * file (`WHOLE_FILE_CONFLICT`).
 */
export function editStepsAt<S extends { options: CommonOptions }>(
  steps: readonly S[],
  path: string,
  machine: string,
  profile: string | undefined,
): S[] {
  return steps.filter(
    (s) =>
      (!s.options.profiles || (profile !== undefined && s.options.profiles.includes(profile))) &&
      (!s.options.on || s.options.on.includes(machine)) &&
      s.options.files?.length &&
      picomatch(s.options.files, { dot: true })(path) &&
      !(s.options.exclude?.length && picomatch(s.options.exclude, { dot: true })(path)),
  )
}
