import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readFileSync,
  readlinkSync,
  readSync,
} from 'node:fs'
import { resolve } from 'node:path'
import { OutsideRootError, RootResolver, type Resolved } from '../fs/confine.js'
import { applyEdits, sortEdits, type Edit, type EncodingName } from '../edit/edit.js'
import { encodeValue, type Encoder } from '../edit/encode.js'
import {
  CutoverError,
  EditConflictError,
  SecretError,
  StalePlanError,
  ValidationError,
} from '../errors.js'
import { faultsFromEnv } from '../transaction/fault.js'
import { withLock } from '../transaction/lock.js'
import { tracePhase } from '../transaction/trace.js'
import { recordOnce, type OnceRecord } from '../plan/once.js'
import type { PlanDocChange, PlanDocWhole, PlanDocument } from '../plan/plan-doc.js'
import { resolveRecordedSecrets } from '../spec/secrets.js'
import {
  editedCredentialSpans,
  fileCredentialSpans,
  maskToolMessage,
  maskedHash,
  merge,
  sensitiveLines,
  sensitiveSpans,
  type SensitiveSpans,
  type Span,
  type ToolMessageMask,
} from '../diff/sensitive.js'
import { decodeText, encodeText, hashOrAbsent, sha256 } from '../text/source.js'
import type { Validator } from '../step/step.js'
import {
  commitFiles,
  recover,
  type RecoverOptions,
  type RecoverReport,
  type TxOptions,
  type TxParticipant,
  type TxResult,
  type TxTarget,
} from '../transaction/transaction.js'
import {
  databaseParticipants,
  databaseRecord,
  databaseState,
  type DatabaseOptions,
} from './participants.js'

/** Options of {@link applyPlanDocument}. */
export interface ApplyOptions extends RecoverStateOptions {
  /** Finds a validator by the name a plan records. */
  validator(name: string): Validator | undefined
  /**
   * Finds an encoder by the name a plan's secret edit records (an engine's `encoder`); a plan
   * naming one it does not find is refused before anything is written (without it, only `raw`).
   */
  encoder?(name: EncodingName): Encoder | undefined
  participants?: readonly TxParticipant[]
  /**
   * The new bytes of a whole-file change (`copy`, `exchange`: `change.whole`), read again where
   * they come from (`whole.from`): for a `symlink`, the text of the source link. Apply checks them
   * against the plan (a source that changed since is stale, nothing written); a plan with
   * whole-file changes is refused without it. It may reject: the error names what it could not read.
   */
  readWhole?(change: PlanDocChange): Promise<Buffer>
}

/**
 * Options of {@link recoverState} (and of the recovery before an apply or a rollback): the
 * state directory, and how to ask a database whether an interrupted transaction committed.
 */
export interface RecoverStateOptions extends TxOptions, DatabaseOptions {}

/** What an apply did, with what recovery found first. */
export interface ApplyResult extends TxResult {
  recovered: RecoverReport
  staleLock?: string
}

/**
 * Applies exactly a plan document: under the state directory's lock, after recovering any
 * interrupted transaction, it re-reads every target and refuses with a {@link StalePlanError}
 * naming each changed file (nothing written) when one differs from the plan; re-resolves secrets
 * from the environment; then writes all targets or none.
 */
export async function applyPlanDocument(
  doc: PlanDocument,
  options: ApplyOptions,
): Promise<ApplyResult> {
  // fault injection (a test hook) reads the environment the apply is given, as its secrets do
  const fault = options.fault ?? faultsFromEnv(options.env ?? process.env)
  return withLock(
    options.stateDir,
    'cutover apply',
    async (lock) => {
      tracePhase('apply:locked')
      const recovered = await recover({
        ...options,
        fault,
        participantState: databaseState(options),
      })
      tracePhase('apply:recovered')
      const stale = lock.staleTakenOver ? { staleLock: lock.staleTakenOver } : {}
      const { targets, mask, secrets } = await planTargets(doc, options)
      tracePhase('apply:replayed')
      const participants = [
        ...(options.participants ?? []),
        ...databaseParticipants(doc.database ?? [], secrets, options),
      ]
      if (targets.length === 0 && participants.length === 0)
        return { txid: '', written: [], warnings: [], recovered, ...stale }
      const journalDatabase = doc.database?.length
        ? databaseRecord(doc.database, doc.secrets)
        : undefined
      try {
        const result = await commitFiles(targets, {
          ...options,
          fault,
          participants,
          meta: { spec: doc.spec, profile: doc.profile, once: true },
          ...(journalDatabase ? { journalDatabase } : {}),
        })
        return { ...result, recovered, ...stale }
      } catch (e) {
        // a validator's message may quote the staged file (visudo shows the line, php -l the token)
        if (e instanceof ValidationError)
          throw new ValidationError(maskToolMessage(e.message, mask))
        throw e
      }
    },
    options.stateFileSystem,
  )
}

/**
 * The transaction's targets for a plan, replayed on its root as it is now (what
 * {@link applyPlanDocument} commits): the secrets it records resolved from `options.env`, each
 * change replayed on its file, the whole refused (nothing written) when it leads out of its root
 * or is stale. `mask`: what a validator's message must not show ({@link maskToolMessage});
 * `secrets`: the values resolved, by name (for a database's statements). A coordinator replays
 * one machine's plan with it and commits the targets on that machine's file system.
 */
export async function planTargets(
  doc: PlanDocument,
  options: ApplyOptions,
): Promise<{ targets: TxTarget[]; mask: ToolMessageMask; secrets: Map<string, string> }> {
  const secrets = resolveRecordedSecrets(doc.secrets, options.env ?? process.env)
  const { targets, mask } = await buildTargets(doc, secrets, options)
  return { targets, mask, secrets }
}

/**
 * The transaction's targets for a plan, in stages: replay each change on its file as it is now,
 * check the hashes that hide sensitive values, refuse a plan that leads out of its root or is
 * stale (nothing written), then what a validator's message must not show, and the targets.
 */
async function buildTargets(
  doc: PlanDocument,
  secrets: Map<string, string>,
  options: ApplyOptions,
): Promise<{ targets: TxTarget[]; mask: ToolMessageMask }> {
  const resolver = planRoot(doc.root)
  // the new bytes of the whole-file changes, read where they come from (all at once: another
  // machine's, over its connection)
  const sources = await readSources(doc.changes, options)
  const replays: Array<Replay | WholeReplay> = []
  const stale: string[] = []
  const refused: string[] = []
  for (const [i, c] of doc.changes.entries()) {
    const r = c.whole
      ? replayWhole(c, c.whole, resolver, sources[i]!)
      : replayChange(c, resolver, secrets, options)
    if ('refused' in r) refused.push(r.refused)
    else if ('stale' in r) stale.push(r.stale)
    else replays.push(r)
  }
  const edited = replays.filter((r): r is Replay => !('whole' in r))
  // as when planning: every old value and written secret of the plan is masked in the hashes of
  // the files that have a salt
  const hashed = [...new Set(edited.flatMap((r) => [...r.spans.old, ...r.spans.written]))]
  stale.push(...staleBehindMask(edited, hashed))
  refuseUnlessCurrent(refused, stale)
  const mask = validatorMask(doc, edited, hashed, secrets, options)
  return {
    targets: replays.map((r) =>
      'whole' in r ? wholeTarget(r, resolver, options) : toTarget(r, hashed, options),
    ),
    mask,
  }
}

/** The bytes each whole-file change writes (`undefined` for an edit or a removal), or why not. */
async function readSources(
  changes: readonly PlanDocChange[],
  options: ApplyOptions,
): Promise<Array<Buffer | { error: unknown } | undefined>> {
  return Promise.all(
    changes.map(async (c) => {
      if (!c.whole || c.whole.type === 'absent') return undefined
      if (!options.readWhole)
        throw new CutoverError(
          'PLAN_INVALID',
          `${c.target}: the plan copies whole files, which only the apply of a fleet (a spec with machines:) reads; apply the fleet's plan`,
        )
      try {
        return await options.readWhole(c)
      } catch (e) {
        // a source gone is a stale plan; what could not be read at all is thrown as it is
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { error: e }
        throw e
      }
    }),
  )
}

/** Where a whole-file change's bytes come from, for messages. */
function sourceName(w: PlanDocWhole): string {
  const from = w.from
  if (!from) return 'nothing'
  return 'local' in from ? from.local : `${from.machine}:${from.path}`
}

/**
 * A whole-file change on its target as it is now: the target still where it was planned and as
 * it was (`before`), and the new bytes, read again from the source, still those of the plan
 * (`after`): a source changed or gone since the plan is stale.
 */
function replayWhole(
  c: PlanDocChange,
  w: PlanDocWhole,
  resolver: RootResolver,
  source: Buffer | { error: unknown } | undefined,
): WholeReplay | { stale: string } | { refused: string } {
  if (w.type === 'absent') {
    // a link the removal is of: removed itself, never followed
    const link = linkAt(c, resolver)
    if (link && 'stale' in link) return link
    if (link) {
      const now = sha256(Buffer.from(link.text))
      if (now !== c.before)
        return { stale: `${c.target}: changed since the plan (planned ${c.before}, now ${now})` }
      if (c.after !== 'absent')
        throw new CutoverError('PLAN_INVALID', `${c.target}: a removal must have after "absent"`)
      const { path, text } = link
      return { c, whole: w, path, now, content: Buffer.alloc(0), link: text }
    }
  }
  const at = current(c, resolver)
  if (!('path' in at)) return at
  if (at.now !== c.before)
    return { stale: `${c.target}: changed since the plan (planned ${c.before}, now ${at.now})` }
  if (w.type === 'absent') {
    if (c.after !== 'absent')
      throw new CutoverError('PLAN_INVALID', `${c.target}: a removal must have after "absent"`)
    return { c, whole: w, path: at.path, now: at.now, content: Buffer.alloc(0) }
  }
  if (source === undefined || !Buffer.isBuffer(source))
    return { stale: `${c.target}: its source ${sourceName(w)} no longer exists` }
  const now = sha256(source)
  if (now !== c.after)
    return {
      stale: `${c.target}: its source ${sourceName(w)} changed since the plan (planned ${c.after}, now ${now})`,
    }
  if (w.type === 'symlink' && source.toString() !== w.symlink)
    throw new CutoverError(
      'PLAN_INVALID',
      `${c.target}: the plan's link text does not hash to its after; plan again`,
    )
  return { c, whole: w, path: at.path, now: at.now, content: source }
}

/**
 * The link at a change's target, its directory resolved in the root (which must be where it was
 * planned) and its last part not followed; undefined when no link is there.
 */
function linkAt(
  c: PlanDocChange,
  resolver: RootResolver,
): { path: string; text: string } | { stale: string } | undefined {
  const parts = c.target.split('/').filter((p) => p !== '' && p !== '.')
  const name = parts.pop()
  if (name === undefined || name === '..' || c.link !== undefined) return undefined
  let dir: Resolved | undefined
  try {
    dir = resolver.resolve(parts.join('/'))
  } catch (e) {
    if (!(e instanceof OutsideRootError)) throw e
    return undefined
  }
  if (!dir?.exists || dir.rel !== parts.join('/')) return undefined
  const path = resolve(dir.real, name)
  let text: string
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined
    text = readlinkSync(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    return { stale: `${c.target}: ${(e as Error).message}` }
  }
  return { path, text }
}

/**
 * Where a change's target is in the root now and what it holds (`now`: its hash, or `absent`),
 * or why the plan no longer fits: a target that now leads elsewhere (a link put on its path) or
 * cannot be read is stale; a path out of the root is refused.
 */
function current(
  c: PlanDocChange,
  resolver: RootResolver,
):
  | { path: string; now: string; bytes: Buffer | undefined }
  | { stale: string }
  | { refused: string } {
  const plain = c.link === undefined ? readPlain(c.target, resolver) : undefined
  if (plain) return { path: plain.real, now: hashOrAbsent(plain.bytes), bytes: plain.bytes }
  let where: Resolved | undefined
  try {
    where = resolver.resolve(c.target, { missingTail: c.before === 'absent' })
  } catch (e) {
    if (!(e instanceof OutsideRootError)) throw e
    return { refused: e.message }
  }
  const planned =
    c.link ??
    c.target
      .split('/')
      .filter((p) => p !== '' && p !== '.')
      .join('/')
  if (where && where.rel !== planned)
    return { stale: `${c.target}: now leads to ${where.rel} in the root, planned ${planned}` }
  const path = where?.real ?? resolve(resolver.real, planned)
  let bytes: Buffer | undefined
  try {
    if (!where) throw Object.assign(new Error('no such directory'), { code: 'ENOENT' })
    bytes = readNoFollow(path)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || c.before !== 'absent') {
      return {
        stale: `${c.target}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no longer exists' : (e as Error).message}`,
      }
    }
  }
  return { path, now: hashOrAbsent(bytes), bytes }
}

/**
 * The transaction's target of a whole-file change: the source's bytes (or link, or the removal);
 * a new target gets the source's mode and owner and the directories above it that are missing
 * (absolute in the root, each checked to stay in it); an exchange journals its one-time move,
 * the hashes before and after, so that a later plan does not swap the files back.
 */
function wholeTarget(r: WholeReplay, resolver: RootResolver, options: ApplyOptions): TxTarget {
  const { c, whole: w, path, now, content } = r
  const created = c.before === 'absent'
  const dirs = (w.dirs ?? []).map((d) => ({
    path: dirInRoot(d.path, c.target, resolver),
    mode: octal(d.mode, c.target),
    uid: d.uid,
    gid: d.gid,
  }))
  const validators = c.validators.map((n) => options.validator(n) ?? unknownValidator(n, c.target))
  return {
    target: c.target,
    path,
    exact: true,
    before: now,
    content,
    validators,
    ...(w.type === 'absent' ? { remove: true } : {}),
    ...(r.link !== undefined ? { symlink: r.link } : {}),
    ...(w.type === 'symlink' ? { symlink: w.symlink! } : {}),
    ...(created && w.type !== 'absent' ? { mode: octal(c.mode, c.target) } : {}),
    ...(created && w.owner ? { owner: { uid: w.owner.uid, gid: w.owner.gid } } : {}),
    ...(created && dirs.length ? { dirs } : {}),
    ...(c.allowUserWritable === true ? { allowUserWritable: true } : {}),
    ...(w.once !== undefined ? { once: [{ id: w.once, was: [c.before], wrote: [c.after] }] } : {}),
  }
}

/** A directory a whole-file change creates, absolute: a plain relative path in the root, above its target. */
function dirInRoot(dir: string, target: string, resolver: RootResolver): string {
  const parts = dir.split('/')
  const under = target.split('/')
  if (
    dir === '' ||
    dir.startsWith('/') ||
    parts.some((p) => p === '' || p === '.' || p === '..') ||
    !parts.every((p, i) => under[i] === p) ||
    parts.length >= under.length
  )
    throw new CutoverError(
      'PLAN_INVALID',
      `${target}: the plan creates the directory "${dir}", which is not above it in the root`,
    )
  return resolve(resolver.real, dir)
}

/** A mode of the plan (octal text), at most 07777. */
function octal(mode: string, target: string): number {
  const n = /^0?[0-7]{1,4}$/.test(mode) ? Number.parseInt(mode, 8) : Number.NaN
  if (!(n >= 0 && n <= 0o7777))
    throw new CutoverError(
      'PLAN_INVALID',
      `${target}: the plan's mode "${mode}" is not an octal mode`,
    )
  return n
}

/**
 * One change replayed on its file as it is now: where the target is in the root (links followed
 * as a chroot would: it must be where it was planned), its bytes, the plain hash of a file
 * without a salt, and the plan's edits applied pass by pass with the secrets encoded.
 */
function replayChange(
  c: PlanDocChange,
  resolver: RootResolver,
  secrets: Map<string, string>,
  options: ApplyOptions,
): Replay | { stale: string } | { refused: string } {
  const at = current(c, resolver)
  if (!('path' in at)) return at
  const { path, bytes } = at
  // a file the plan creates must still be absent
  const now = hashOrAbsent(bytes)
  if ((c.salt === undefined || !bytes) && now !== c.before)
    return { stale: `${c.target}: changed since the plan (planned ${c.before}, now ${now})` }
  const { text, encoding } = bytes ? decodeText(bytes) : { text: '', encoding: c.encoding }
  const passes = editPasses(c, secrets, options)
  let after = text
  // what the one-time moves (swaps) write is journaled with the transaction
  const once = new Map<string, OnceRecord>()
  try {
    for (const pass of passes) {
      recordOnce(after, pass, once)
      after = applyEdits(after, pass)
    }
  } catch (e) {
    // the plan's edits no longer fit a file whose hash hides its sensitive values: it changed
    if (c.salt === undefined || !(e instanceof EditConflictError)) throw e
    return { stale: `${c.target}: changed since the plan (its edits no longer fit)` }
  }
  const spans = sensitiveSpans(text, passes)
  return { c, path, now, text, encoding, after, spans, passes, once: [...once.values()] }
}

/** A change's edits grouped by pass, in pass order, each secret encoded for its literal. */
function editPasses(
  c: PlanDocChange,
  secrets: Map<string, string>,
  options: ApplyOptions,
): Edit[][] {
  const byPass = new Map<number, Edit[]>()
  for (const e of c.edits) {
    const value = e.secret
      ? encodeValue(
          secrets.get(e.secret.name) ?? missing(e.secret.name),
          e.secret.encoding,
          (name) => options.encoder?.(name),
        )
      : e.text!
    const list = byPass.get(e.pass) ?? []
    list.push({
      start: e.start,
      end: e.end,
      text: value,
      rule: e.rule,
      ...(e.secret ? { secret: e.secret } : {}),
      ...(e.sensitive ? { sensitive: true } : {}),
      ...(typeof e.once === 'string' ? { once: e.once } : {}),
    })
    byPass.set(e.pass, list)
  }
  return [...byPass.keys()].sort((a, b) => a - b).map((k) => byPass.get(k)!)
}

/**
 * The files with a salt whose hash, sensitive values hidden, differs from the plan's. Keeps the
 * credential spans of each such file's text on its replay (`credBefore`, for its new hash).
 */
function staleBehindMask(replays: readonly Replay[], hashed: readonly string[]): string[] {
  const stale: string[] = []
  for (const r of replays) {
    if (r.c.salt === undefined || r.now === 'absent') continue
    r.credBefore = fileCredentialSpans(r.text, r.c.target)
    const now = maskedHash(
      r.text,
      [...r.spans.before, ...r.credBefore],
      [...hashed],
      r.c.salt,
      r.encoding,
    )
    if (now !== r.c.before)
      stale.push(`${r.c.target}: changed since the plan (planned ${r.c.before}, now ${now})`)
  }
  return stale
}

/** Throws, nothing written, when the plan leads out of its root or a target changed since it. */
function refuseUnlessCurrent(refused: readonly string[], stale: readonly string[]): void {
  if (refused.length)
    throw new CutoverError(
      'OUTSIDE_ROOT',
      `the plan leads out of its root, nothing was written:\n${refused.map((s) => `  ${s}`).join('\n')}`,
    )
  if (stale.length) {
    throw new StalePlanError(
      `the plan is stale, nothing was written:\n${stale.map((s) => `  ${s}`).join('\n')}\nplan again and review the new diff`,
    )
  }
}

/**
 * What a validator's message must not show: the secrets and old values of the plan, by position
 * on the lines of the staged files that hold them.
 */
function validatorMask(
  doc: PlanDocument,
  replays: readonly Replay[],
  hashed: readonly string[],
  secrets: Map<string, string>,
  options: ApplyOptions,
): ToolMessageMask {
  const lines = new Map<string, Span[]>()
  for (const r of replays)
    for (const [line, cols] of sensitiveLines(r.after, r.spans.after))
      lines.set(line, merge([...(lines.get(line) ?? []), ...cols]))
  return {
    values: [...hashed, ...secrets.values()],
    lines,
    keep: [...doc.changes.map((c) => c.target), options.stateDir],
  }
}

/**
 * The transaction's target for a replayed change, once its result is checked against the plan's
 * hash. `path` was resolved in the root just now, link-free: a link put on it since is refused,
 * not followed; the transaction re-checks the file's real hash just before its rename.
 */
function toTarget(r: Replay, hashed: readonly string[], options: ApplyOptions): TxTarget {
  const { c, path, now, after: text, spans, once } = r
  const content = encodeText(text, c.encoding)
  const after =
    c.salt !== undefined
      ? maskedHash(text, [...spans.after, ...credentialsAfter(r)], [...hashed], c.salt, c.encoding)
      : sha256(content)
  if (after !== c.after) {
    throw new CutoverError(
      'PLAN_INVALID',
      `${c.target}: replaying the plan's edits does not give the planned result (${after} instead of ${c.after}); plan again`,
    )
  }
  const validators = c.validators.map((n) => options.validator(n) ?? unknownValidator(n, c.target))
  return {
    target: c.target,
    path,
    exact: true,
    before: now,
    content,
    validators,
    ...(c.before === 'absent' ? { mode: Number.parseInt(c.mode, 8) } : {}),
    ...(c.allowUserWritable === true ? { allowUserWritable: true } : {}),
    ...(once.length ? { once } : {}),
  }
}

/**
 * The credential spans of a replayed change's new text (what {@link fileCredentialSpans} finds
 * there): as a plan finds them, from those of the text before when the edits are one pass (the
 * lines no edit touches are not read again), else by reading the new text.
 */
function credentialsAfter(r: Replay): Span[] {
  if (r.credBefore === undefined || r.passes.length !== 1)
    return fileCredentialSpans(r.after, r.c.target)
  return editedCredentialSpans(r.text, r.credBefore, r.after, sortEdits(r.passes[0]!), r.c.target)
}

/** A whole-file change on its target as it is now, with the bytes it writes. */
interface WholeReplay {
  c: PlanDocChange
  whole: PlanDocWhole
  path: string
  now: string
  content: Buffer
  /** For the removal of a link: its text (the link is removed, never followed). */
  link?: string
}

/** A change of a plan replayed on the file as it is now. */
interface Replay {
  c: PlanDocChange
  path: string
  now: string
  text: string
  encoding: string
  after: string
  spans: SensitiveSpans
  /** The plan's edits of the file, pass by pass. */
  passes: Edit[][]
  /** The credential spans of `text` (read for a file with a salt, by {@link staleBehindMask}). */
  credBefore?: Span[]
  once: OnceRecord[]
}

/**
 * The most common target, read with one lookup of its own: a plain file where it was planned,
 * in a directory resolved before (or now), opened without following a link. Undefined for
 * anything else (a link at its last part, nothing there, not a file, out of the root, its
 * directory leading elsewhere): {@link current} then resolves it part by part and says what it is.
 */
function readPlain(
  target: string,
  resolver: RootResolver,
): { real: string; bytes: Buffer } | undefined {
  const path = target
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/')
  try {
    const at = resolver.fileIn(path)
    // a directory reached through a link: resolved again below, which says where it leads
    if (!at || at.rel !== path) return undefined
    return { real: at.real, bytes: readNoFollow(at.real) }
  } catch {
    return undefined
  }
}

/** A file's bytes; a link at its last part is not followed (the open fails). */
function readNoFollow(path: string): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw new CutoverError('TARGET', 'not a regular file any more')
    return readAll(fd, st.size)
  } finally {
    closeSync(fd)
  }
}

/**
 * The bytes of `fd`, a regular file of `size` bytes when its `fstat` was read, as `readFileSync`
 * reads them but without a second `fstat`; a size of 0 (a file of /proc says so) is read until
 * its end by `readFileSync`.
 */
function readAll(fd: number, size: number): Buffer {
  if (size === 0) return readFileSync(fd)
  const buf = Buffer.allocUnsafe(size)
  let got = 0
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, null)
    if (n === 0) break
    got += n
  }
  return got < size ? buf.subarray(0, got) : buf
}

function planRoot(root: string): RootResolver {
  try {
    return new RootResolver(root)
  } catch (e) {
    throw new CutoverError(
      'PLAN_ROOT',
      `cannot use the plan's root ${root}: ${(e as Error).message}`,
      { cause: e },
    )
  }
}

function missing(name: string): never {
  throw new SecretError(`the plan uses secret "${name}" but does not record it`)
}

function unknownValidator(name: string, target: string): never {
  throw new CutoverError(
    'PLAN_INVALID',
    `${target}: the plan asks for validator "${name}", which this cutover does not have`,
  )
}

/**
 * Runs {@link recover} under the state directory's lock; `fileSystem`: the targets' file system
 * (local by default); `decide`: the controller's decision for a prepared part of a fleet
 * transaction (see {@link RecoverOptions.decide}).
 */
export async function recoverState(
  options: RecoverStateOptions & Pick<RecoverOptions, 'fileSystem' | 'decide'>,
): Promise<RecoverReport> {
  return withLock(
    options.stateDir,
    'cutover recover',
    async (lock) => {
      const report = await recover({ ...options, participantState: databaseState(options) })
      return lock.staleTakenOver ? { ...report, staleLock: lock.staleTakenOver } : report
    },
    options.stateFileSystem,
  )
}
