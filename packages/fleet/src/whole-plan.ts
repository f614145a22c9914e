import { posix } from 'node:path'
import {
  appliedOnce,
  CutoverError,
  decodeText,
  quotePath,
  sha256,
  unifiedDiff,
  type MachineLocation,
  type PlanDocChange,
  type PlanDocNote,
  type PlanDocWhole,
  type WholeLocation,
  type WholeStep,
} from '@cutover/rewrite'
import { machineStateDir } from './coordinator.js'
import { FleetError } from './errors.js'
import { localMachine } from './local-machine.js'
import type { Machine } from './machine.js'
import { findOn, inRoot, type Entry } from './mirror.js'

/** What {@link planWhole} plans: the whole-file steps of a profile, and the machines they name. */
export interface WholePlanInput {
  /** The `copy` and `exchange` steps that run in the plan's profile, in spec order. */
  steps: readonly WholeStep[]
  /** Every machine the steps name, opened (a local directory or over ssh). */
  machines: ReadonlyMap<string, Machine>
  /** The directory a local `from` path is relative to (the spec's). */
  specDir: string
  /** Whether a step's `sensitive` globs match a root-relative path (of a source or a target). */
  sensitive: (step: WholeStep, path: string) => boolean
  /** The largest file (bytes) read whole, a source or a target (default 64 MiB): a larger one is refused, not read. */
  maxFileSize?: number
}

const MAX_FILE_SIZE = 64 * 1024 * 1024

/** A path in cutover's own state directory of a machine (journals, backups, once records): never copied over, never removed. */
const inState = (path: string) => path === 'var/lib/cutover' || path.startsWith('var/lib/cutover/')

/** The whole-file changes of a fleet plan, and its notes (directories `delete` leaves). */
export interface WholePlan {
  changes: Array<{ machine: string } & PlanDocChange>
  notes: Array<{ machine: string } & PlanDocNote>
  /** Every file of a machine that a step reads or writes (changed or not), for the conflicts with steps that edit text. */
  files: Array<{ machine: string; path: string; step: WholeStep }>
}

/** Key material by its armour: PEM private keys (PKCS#1, PKCS#8, EC, encrypted), OpenSSH, SSH2 (RFC 4716 style) and PuTTY keys, PGP secret key blocks. */
const KEY_MATERIAL =
  /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|---- BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY ----|PuTTY-User-Key-File-/

/** A file's bytes and what is known of it on its machine. */
interface Read {
  entry: Entry
  /** Where the file is in the root once links are followed (`entry.path` when no link leads elsewhere). */
  real: string
  bytes?: Buffer
}

/** A machine's side of a location: the machine and its name for messages. */
interface Side {
  machine: Machine
  /** `hub` for a machine, `local` for the controller. */
  name: string
}

/**
 * Plans the whole-file steps: lists each source and target (a file or a tree) on its machine, reads
 * and compares them, and gives a change for each target that differs, with `whole` filled (docs/
 * design.md §7). The new bytes are never in a change: only their hash, and a diff of text that is
 * neither sensitive nor binary (otherwise its size and hash). An `exchange` pair whose two sides
 * hold what an earlier apply of it wrote is left out (warned `ONCE_CHANGED` when only one does).
 */
export async function planWhole(input: WholePlanInput): Promise<WholePlan> {
  const out: WholePlan = { changes: [], notes: [], files: [] }
  const onceCache = new Map<string, Awaited<ReturnType<typeof appliedOnce>>>()
  const applied = async (m: Machine) => {
    let a = onceCache.get(m.spec.name)
    if (!a) {
      a = await appliedOnce(machineStateDir(m.spec), m.stateFileSystem)
      onceCache.set(m.spec.name, a)
    }
    return a
  }
  for (const step of input.steps) {
    if (step.kind === 'copy') await planCopy(input, step, out)
    else await planExchange(input, step, out, applied)
  }
  return out
}

function machineOf(input: WholePlanInput, name: string): Machine {
  const m = input.machines.get(name)
  if (!m)
    throw new FleetError('MACHINE', `${name}: the machine is not open for the whole-file steps`)
  return m
}

/** The side and root-relative path of a location (a local one is a path of the controller's `/`). */
function sideOf(input: WholePlanInput, l: WholeLocation): { side: Side; path: string } {
  if ('machine' in l)
    return { side: { machine: machineOf(input, l.machine), name: l.machine }, path: l.path }
  const abs = posix.resolve(input.specDir, l.local)
  return {
    side: { machine: localMachine({ name: 'local', root: '/' }), name: 'local' },
    path: abs.replace(/^\/+/, '') || '.',
  }
}

const shown = (side: Side, path: string) =>
  side.name === 'local' ? `/${path}` : `${side.name}:${path}`

async function listOn(side: Side, path: string): Promise<Map<string, Entry>> {
  const entries = await findOn(side.machine, [path])
  return new Map(entries.map((e) => [e.path, e]))
}

async function readBytes(side: Side, path: string, entry: Entry, limit: number): Promise<Buffer> {
  if (entry.size > limit)
    throw new CutoverError(
      'FILE_TOO_LARGE',
      `${shown(side, path)}: ${entry.size} bytes, over the size limit of ${limit} bytes of a file copied or exchanged whole; nothing was planned (raise the limit with --max-file-size)`,
    )
  try {
    return await side.machine.readFile(posix.join(side.machine.spec.root, path))
  } catch (e) {
    throw new FleetError(
      'WHOLE_SOURCE',
      `${shown(side, path)}: cannot read it: ${(e as Error).message}`,
      {
        cause: e,
      },
    )
  }
}

/**
 * The file a path leads to in its machine's root, links followed (as a chroot would: an absolute
 * link is the root's); undefined when nothing is there.
 */
async function follow(
  side: Side,
  path: string,
  listed: Map<string, Entry>,
): Promise<Read | undefined> {
  let entry = listed.get(path) ?? (await listOn(side, path)).get(path)
  let real = path
  for (let hops = 0; entry?.type === 'l'; hops++) {
    const next = inRoot(entry.path, entry.link)
    if (next === undefined || hops > 40)
      throw new FleetError(
        'WHOLE_TARGET',
        `${shown(side, path)}: the link leads out of the root (or loops): ${entry.link}`,
      )
    real = next
    entry = listed.get(next) ?? (await listOn(side, next)).get(next)
  }
  return entry ? { entry, real } : undefined
}

const octal = (mode: number, digits = 4) =>
  '0' + (mode & 0o7777).toString(8).padStart(digits - 1, '0')

/** How a file's bytes may be shown: `sensitive`, `binary`, or as text. */
function kindOf(bytes: Buffer | undefined, mode: number | undefined, marked: boolean) {
  if (marked || (mode !== undefined && (mode & 0o077) === 0)) return 'sensitive' as const
  if (bytes && KEY_MATERIAL.test(bytes.toString('latin1'))) return 'sensitive' as const
  if (bytes && bytes.includes(0)) return 'binary' as const
  return 'text' as const
}

/** `(sensitive file, N bytes, sha256:…)`: all a review shows of such a file. */
function summary(kind: 'sensitive' | 'binary', bytes: Buffer): string {
  return `(${kind} file, ${bytes.length} bytes, ${sha256(bytes)})`
}

/**
 * The diff of a whole-file change: unified for text; the summary line of each side for a
 * sensitive or binary one (never a byte of it). `--- /dev/null` for a new file, `+++ /dev/null`
 * for a removal.
 */
function wholeDiff(
  label: string,
  before: Buffer | undefined,
  after: Buffer | undefined,
  shownAs: 'sensitive' | 'binary' | 'text',
): string {
  // a name is quoted as git quotes it: a newline or control character in it forges no line
  const head = [
    before === undefined ? '--- /dev/null' : `--- ${quotePath(`a/${label}`)}`,
    after === undefined ? '+++ /dev/null' : `+++ ${quotePath(`b/${label}`)}`,
  ]
  if (shownAs !== 'text')
    return (
      [
        ...head,
        ...(before !== undefined ? [`-${summary(shownAs, before)}`] : []),
        ...(after !== undefined ? [`+${summary(shownAs, after)}`] : []),
      ].join('\n') + '\n'
    )
  const diff = unifiedDiff(
    label,
    before ? decodeText(before).text : '',
    after ? decodeText(after).text : '',
  )
  if (diff === '') return head.join('\n') + '\n'
  const lines = diff.split('\n')
  return [...head, ...lines.slice(2)].join('\n')
}

/** A change of a target on its machine. */
function change(
  step: WholeStep,
  machine: string,
  target: string,
  fields: Omit<PlanDocChange, 'target' | 'kind' | 'edits' | 'validators'>,
): { machine: string } & PlanDocChange {
  const { whole, ...rest } = fields
  return {
    machine,
    target,
    kind: step.kind,
    ...rest,
    validators: [],
    edits: [],
    ...(whole ? { whole } : {}),
  }
}

/** The directories above a new target that its machine lacks, top down, with the modes and owners of the source's. */
function missingDirs(
  target: string,
  stop: string,
  targetListed: ReadonlyMap<string, Entry>,
  sourceDir: (dir: string) => Entry | undefined,
): PlanDocWhole['dirs'] {
  const dirs: NonNullable<PlanDocWhole['dirs']> = []
  for (let d = posix.dirname(target); d !== '.' && d !== stop; d = posix.dirname(d)) {
    if (targetListed.get(d)?.type === 'd') break
    const s = sourceDir(d)
    dirs.unshift({ path: d, mode: octal(s?.mode ?? 0o755, 4), uid: s?.uid ?? 0, gid: s?.gid ?? 0 })
  }
  return dirs.length ? dirs : undefined
}

async function planCopy(
  input: WholePlanInput,
  step: Extract<WholeStep, { kind: 'copy' }>,
  out: WholePlan,
): Promise<void> {
  const o = step.options
  const limit = input.maxFileSize ?? MAX_FILE_SIZE
  const { side: src, path: from } = sideOf(input, o.from)
  const srcListed = await listOn(src, from)
  const top = srcListed.get(from)
  if (!top)
    throw new FleetError(
      'WHOLE_SOURCE',
      `${shown(src, from)}: no such ${o.from.tree ? 'directory' : 'file'} (the source of step ${step.index + 1}, copy)`,
    )
  if (o.from.tree && top.type !== 'd')
    throw new FleetError('WHOLE_SOURCE', `${shown(src, from)}: not a directory (from ends with /)`)
  if (!o.from.tree && top.type === 'd')
    throw new FleetError(
      'WHOLE_SOURCE',
      `${shown(src, from)}: a directory: end from (and to) with / to copy the tree`,
    )
  // the source's files and links, by their path below `from` ('' for a single file)
  const sources = [...srcListed.values()]
    .filter((e) => e.type !== 'd' && (e.path === from || e.path.startsWith(`${from}/`)))
    .map((e) => ({ rel: e.path === from ? '' : e.path.slice(from.length + 1), entry: e }))
    .sort((a, b) => a.rel.localeCompare(b.rel))
  const srcBytes = new Map<string, Read | undefined>()
  const sourceFile = async (path: string) => {
    if (!srcBytes.has(path)) {
      const r = await follow(src, path, srcListed)
      if (r && r.entry.type === 'f') r.bytes = await readBytes(src, r.real, r.entry, limit)
      srcBytes.set(path, r?.entry.type === 'f' ? r : undefined)
    }
    return srcBytes.get(path)
  }
  const fromRecord: (rel: string) => PlanDocWhole['from'] = (rel) => {
    const p = rel ? `${from}/${rel}` : from
    return 'machine' in o.from ? { machine: o.from.machine, path: p } : { local: `/${p}` }
  }
  for (const to of o.to) {
    const dst: Side = { machine: machineOf(input, to.machine), name: to.machine }
    const dstListed = await listOn(dst, to.path)
    const dstTop = dstListed.get(to.path)
    if (o.from.tree && dstTop && dstTop.type !== 'd')
      throw new FleetError(
        'WHOLE_TARGET',
        `${to.machine}:${to.path}: not a directory (to ends with /)`,
      )
    const sourceDir = (d: string): Entry | undefined => {
      // the source directory at the same place below (or above) the copied tree
      const rel =
        d === to.path ? '' : d.startsWith(`${to.path}/`) ? d.slice(to.path.length + 1) : undefined
      if (rel !== undefined) return srcListed.get(rel ? `${from}/${rel}` : from)
      const up = to.path.split('/').length - d.split('/').length
      let s = from
      for (let i = 0; i < up; i++) s = posix.dirname(s)
      return srcListed.get(s)
    }
    const written = new Set<string>()
    for (const { rel, entry } of sources) {
      const target = rel ? `${to.path}/${rel}` : to.path
      if (inState(target) || ('machine' in o.from && inState(entry.path))) continue
      written.add(target)
      out.files.push({ machine: to.machine, path: target, step })
      if ('machine' in o.from) out.files.push({ machine: o.from.machine, path: entry.path, step })
      const label = `${to.machine}:${target}`
      const marked = input.sensitive(step, target) || input.sensitive(step, entry.path)
      const existing = dstListed.get(target)
      if (existing?.type === 'd')
        throw new FleetError('WHOLE_TARGET', `${label}: a directory where the copy writes a file`)
      // a new link, or a link that stays a link: the same text
      if (entry.type === 'l' && (!existing || existing.type === 'l')) {
        if (existing?.link === entry.link) continue
        const text = Buffer.from(entry.link)
        out.changes.push(
          change(step, to.machine, target, {
            before: existing ? sha256(Buffer.from(existing.link)) : 'absent',
            after: sha256(text),
            mode: '0777',
            encoding: 'utf8',
            diff:
              [
                existing ? `--- ${quotePath(`a/${label}`)}` : '--- /dev/null',
                `+++ ${quotePath(`b/${label}`)}`,
                ...(existing ? [`-(link to ${quotePath(existing.link)})`] : []),
                `+(link to ${quotePath(entry.link)})`,
              ].join('\n') + '\n',
            whole: {
              type: 'symlink',
              from: fromRecord(rel),
              symlink: entry.link,
              ...(existing ? {} : { owner: { uid: entry.uid, gid: entry.gid } }),
              ...(existing ? {} : dirsOf(missingDirs(target, '.', dstListed, sourceDir))),
            },
          }),
        )
        continue
      }
      const s = await sourceFile(entry.path)
      if (!s)
        throw new FleetError(
          'WHOLE_SOURCE',
          `${shown(src, entry.path)}: a link that leads to no file (${entry.link})`,
        )
      const t = existing ? await follow(dst, target, dstListed) : undefined
      if (existing && !t)
        throw new FleetError(
          'WHOLE_TARGET',
          `${label}: a link that leads to nothing (${existing.link})`,
        )
      if (t && t.entry.type !== 'f')
        throw new FleetError('WHOLE_TARGET', `${label}: not a file where the copy writes one`)
      const old = t ? await readBytes(dst, t.real, t.entry, limit) : undefined
      if (old && old.equals(s.bytes!)) continue
      const shownAs =
        kindOf(s.bytes, s.entry.mode, marked) === 'text'
          ? old
            ? kindOf(old, t!.entry.mode, false)
            : 'text'
          : kindOf(s.bytes, s.entry.mode, marked)
      out.changes.push(
        change(step, to.machine, target, {
          ...(t && t.real !== target ? { link: t.real } : {}),
          before: old ? sha256(old) : 'absent',
          after: sha256(s.bytes!),
          mode: t ? octal(t.entry.mode) : octal(s.entry.mode & 0o777),
          encoding: shownAs === 'binary' ? 'latin1' : decodeText(s.bytes!).encoding,
          diff: wholeDiff(label, old, s.bytes!, shownAs),
          whole: {
            type: 'file',
            from: fromRecord(rel),
            ...(t ? {} : { owner: { uid: s.entry.uid, gid: s.entry.gid } }),
            ...(t ? {} : dirsOf(missingDirs(target, '.', dstListed, sourceDir))),
            ...(shownAs === 'sensitive' ? { sensitive: true as const } : {}),
            ...(shownAs === 'binary' ? { binary: true as const } : {}),
          },
        }),
      )
    }
    if (!o.delete) continue
    for (const e of [...dstListed.values()].sort((a, b) => a.path.localeCompare(b.path))) {
      if (!e.path.startsWith(`${to.path}/`) || written.has(e.path) || inState(e.path)) continue
      const rel = e.path.slice(to.path.length + 1)
      const label = `${to.machine}:${e.path}`
      if (e.type === 'd') {
        if (!srcListed.has(`${from}/${rel}`))
          out.notes.push({
            machine: to.machine,
            target: e.path,
            code: 'DIR_KEPT',
            message: `a directory the source ${shown(src, from)}/ lacks: delete: true removes files, never directories`,
            severity: 'note',
          })
        continue
      }
      const old = e.type === 'l' ? Buffer.from(e.link) : await readBytes(dst, e.path, e, limit)
      const shownAs = e.type === 'l' ? 'text' : kindOf(old, e.mode, input.sensitive(step, e.path))
      out.changes.push(
        change(step, to.machine, e.path, {
          before: sha256(old),
          after: 'absent',
          mode: e.type === 'l' ? '0777' : octal(e.mode),
          encoding: 'utf8',
          diff:
            e.type === 'l'
              ? `--- ${quotePath(`a/${label}`)}\n+++ /dev/null\n-(link to ${quotePath(e.link)})\n`
              : wholeDiff(label, old, undefined, shownAs),
          whole: {
            type: 'absent',
            ...(shownAs === 'sensitive' ? { sensitive: true as const } : {}),
            ...(shownAs === 'binary' ? { binary: true as const } : {}),
          },
        }),
      )
    }
  }
}

function dirsOf(dirs: PlanDocWhole['dirs']): { dirs?: NonNullable<PlanDocWhole['dirs']> } {
  return dirs ? { dirs } : {}
}

/** The id of an exchange pair, as its changes and the journals record it. */
export function exchangeId(a: MachineLocation, b: MachineLocation): string {
  return `exchange [${a.machine}:${a.path}, ${b.machine}:${b.path}]`
}

async function planExchange(
  input: WholePlanInput,
  step: Extract<WholeStep, { kind: 'exchange' }>,
  out: WholePlan,
  applied: (m: Machine) => ReturnType<typeof appliedOnce>,
): Promise<void> {
  const limit = input.maxFileSize ?? MAX_FILE_SIZE
  for (const [a, b] of step.options.pairs) {
    const id = exchangeId(a, b)
    const sides = await Promise.all(
      [a, b].map(async (l) => {
        const side: Side = { machine: machineOf(input, l.machine), name: l.machine }
        const listed = await listOn(side, l.path)
        const r = await follow(side, l.path, listed)
        if (!r || r.entry.type !== 'f')
          throw new FleetError(
            'WHOLE_SOURCE',
            `${l.machine}:${l.path}: ${r ? 'not a file' : 'no such file'} (a side of step ${step.index + 1}, ${id})`,
          )
        r.bytes = await readBytes(side, r.real, r.entry, limit)
        out.files.push({ machine: l.machine, path: l.path, step })
        const record = (await applied(side.machine)).get(l.path)?.moves.get(id)
        return { l, r, record, holds: record?.wrote[0] === sha256(r.bytes) }
      }),
    )
    const [sa, sb] = sides as [(typeof sides)[number], (typeof sides)[number]]
    if (sa.holds && sb.holds) continue
    if (sa.holds || sb.holds) {
      const [done, other] = sa.holds ? [sa, sb] : [sb, sa]
      out.notes.push({
        machine: other.l.machine,
        target: other.l.path,
        code: 'ONCE_CHANGED',
        message: `${id} was applied (transaction ${done.record!.txid}) and ${done.l.machine}:${done.l.path} still holds what it wrote, but this file no longer does: left alone (restore it, or roll the exchange back)`,
        severity: 'warning',
      })
      continue
    }
    if (sa.r.bytes!.equals(sb.r.bytes!)) continue
    const marked =
      input.sensitive(step, a.path) ||
      input.sensitive(step, b.path) ||
      kindOf(sa.r.bytes, sa.r.entry.mode, false) === 'sensitive' ||
      kindOf(sb.r.bytes, sb.r.entry.mode, false) === 'sensitive'
    const binary =
      kindOf(sa.r.bytes, undefined, false) === 'binary' ||
      kindOf(sb.r.bytes, undefined, false) === 'binary'
    const shownAs = marked ? 'sensitive' : binary ? 'binary' : 'text'
    for (const [me, other] of [
      [sa, sb],
      [sb, sa],
    ] as const) {
      const label = `${me.l.machine}:${me.l.path}`
      out.changes.push(
        change(step, me.l.machine, me.l.path, {
          ...(me.r.real !== me.l.path ? { link: me.r.real } : {}),
          before: sha256(me.r.bytes!),
          after: sha256(other.r.bytes!),
          mode: octal(me.r.entry.mode),
          encoding: shownAs === 'binary' ? 'latin1' : decodeText(other.r.bytes!).encoding,
          diff: wholeDiff(label, me.r.bytes, other.r.bytes, shownAs),
          whole: {
            type: 'file',
            from: { machine: other.l.machine, path: other.l.path },
            ...(shownAs === 'sensitive' ? { sensitive: true as const } : {}),
            ...(shownAs === 'binary' ? { binary: true as const } : {}),
            once: id,
          },
        }),
      )
    }
  }
}
