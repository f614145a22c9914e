import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { diffStat, unifiedDiff } from '../diff/diff.js'
import {
  editedCredentialSpans,
  fileCredentialSpans,
  lineCredentialSpans,
  maskSpans,
  maskedHash,
  sensitiveSpans,
  tokenSpans,
  type CredentialSpan,
  type SensitiveSpans,
} from '../diff/sensitive.js'
import type { DatabaseChange } from '../step/database.js'
import { EditedText } from '../text/big-text.js'
import type { FileChange, PlanNote, PlannedLeftover } from './plan.js'

/** How long {@link maskSensitive} works before it lets the event loop run. */
const YIELD_MS = 5

/**
 * Makes the diffs of the planned changes, hiding what must not be shown, by position: what secret
 * edits write and the old values sensitive edits replace (and those old values, as whole words,
 * on any line of any diff, in edit summaries, leftovers and notes); values that look like credentials unless
 * `show`. The diff headers name `label` before each target (a fleet's `finance:`). Files holding a sensitive value get salted, masked hashes (`masked-sha256:`), so that
 * no guess of an old password can be checked against the plan. `hidden` are more old values to
 * hide from view as whole words (those of a fleet's other machines; not in the hashes, which
 * `apply` replays one machine at a time). Resolves to the values never shown, and this plan's old values; lets the event loop run every few milliseconds (the linter of the planned text runs beside it).
 */
export async function maskSensitive(
  changes: FileChange[],
  leftovers: PlannedLeftover[],
  notes: PlanNote[],
  database: DatabaseChange[],
  secretValues: string[],
  show: boolean,
  label = '',
  hidden: readonly string[] = [],
): Promise<{ never: string[]; old: string[] }> {
  const spans = new Map<FileChange, SensitiveSpans>()
  const old = new Set<string>()
  const written = new Set<string>()
  for (const c of changes) {
    const s = sensitiveSpans(c.beforeText, c.passes)
    spans.set(c, s)
    for (const v of s.old) if (v.length) old.add(v)
    for (const v of s.written) written.add(v)
  }
  // another machine's old values are hidden from view; the hashes (replayed per machine by apply) hide only this plan's
  const oldValues = [...new Set([...old, ...hidden.filter((v) => v.length > 0)])]
  const hashed = [...old, ...written]
  const never = [...new Set([...hashed, ...secretValues])].filter((v) => v.length > 0)
  let since = performance.now()
  for (const c of changes) {
    // what runs beside (the linter's processes) is answered every few milliseconds
    if (performance.now() - since > YIELD_MS) {
      await new Promise((go) => setImmediate(go))
      since = performance.now()
    }
    const s = spans.get(c)!
    const edited = c.passes.filter((p) => p.length > 0)
    // a file changed by one pass (the usual case): its new text is read from its text and the
    // pass's edits where the diff and the masking need it, made only for a masked hash
    const after: string | EditedText =
      edited.length === 1 ? new EditedText(c.beforeText, edited[0]!) : c.afterText
    let made: string | undefined
    const afterText = () => (made ??= after.toString())
    const line = (body: string) => [
      ...tokenSpans(body, oldValues),
      ...lineCredentialSpans(body, c.target).filter(
        (x) => !show || never.some((v) => body.slice(x.start, x.end).includes(v)),
      ),
    ]
    // a value the diff masks as a credential must not be confirmable against the file's hash either
    const credBefore = c.before === 'absent' ? [] : fileCredentialSpans(c.beforeText, c.target)
    // one pass over the file as it is: only the lines it touches are read again
    const credAfter =
      c.before !== 'absent' && edited.length === 1
        ? editedCredentialSpans(c.beforeText, credBefore, after, edited[0]!, c.target)
        : fileCredentialSpans(afterText(), c.target)
    // a value whose key is on an earlier line is hidden by position: `line` reads one line
    const continued = (spans: readonly CredentialSpan[], text: string | EditedText) =>
      spans.filter(
        (x) => x.continued && (!show || never.some((v) => text.slice(x.start, x.end).includes(v))),
      )
    c.diff = unifiedDiff(label + c.target, c.beforeText, after, {
      before: [...s.before, ...continued(credBefore, c.beforeText)],
      after: [...s.after, ...continued(credAfter, after)],
      line,
    })
    ;({ added: c.added, removed: c.removed } = diffStat(c.diff))
    if (
      s.before.length ||
      s.after.length ||
      credBefore.length ||
      credAfter.length ||
      hashed.some((v) => c.beforeText.includes(v) || afterText().includes(v))
    ) {
      c.salt = randomBytes(16).toString('hex')
      if (c.before !== 'absent')
        c.before = maskedHash(
          c.beforeText,
          [...s.before, ...credBefore],
          hashed,
          c.salt,
          c.encoding,
        )
      c.after = maskedHash(afterText(), [...s.after, ...credAfter], hashed, c.salt, c.encoding)
    }
  }
  // free text hides the old values only: a secret's value elsewhere is another word there (a path)
  const hide = (text: string) => maskSpans(text, tokenSpans(text, oldValues), '(sensitive)')
  for (const c of changes)
    for (const pass of c.passes) for (const e of pass) if (e.summary) e.summary = hide(e.summary)
  for (const l of leftovers) {
    l.text = hide(l.text)
    l.reason = hide(l.reason)
  }
  for (const n of notes) n.message = hide(n.message)
  for (const d of database) {
    // the headers name the object; only the lines of its definition or row are masked, like a file's
    const credentials = (l: string) =>
      lineCredentialSpans(l).filter(
        (x) => !show || never.some((v) => l.slice(x.start, x.end).includes(v)),
      )
    d.diff = d.diff
      .split('\n')
      .map((l) =>
        /^(--- |\+\+\+ |-- pg:)/.test(l)
          ? l
          : maskSpans(l, [...tokenSpans(l, oldValues), ...credentials(l)], '(sensitive)'),
      )
      .join('\n')
  }
  return { never, old: [...old] }
}
