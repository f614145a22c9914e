// Correctness of a rewritten file against the generator's sites: every site is either an old
// address that must become its name, or a decoy that must stay. Walks the output segment by
// segment: a site holding its expected text is right; its original text (when a change was
// expected) is a missed edit; anything else is a wrong edit.
import { createHash } from 'node:crypto'

/** Counts of one file or a whole tree. */
export function tally() {
  return { files: 0, ok: 0, expected: 0, done: 0, missed: 0, wrong: 0 }
}

/** Checks `out` (a string) against the original text and its sites; adds to `t`. */
export function checkText(t, orig, out, entry) {
  t.files++
  const sha = createHash('sha256').update(out).digest('hex')
  const changes = entry.sites.filter((s) => s[1] !== s[2]).length
  t.expected += changes
  if (sha === entry.sha256) {
    t.ok++
    t.done += changes
    return
  }
  const before = t.missed + t.wrong
  let at = 0
  let prev = 0
  for (let k = 0; k < entry.sites.length; k++) {
    const [offset, was, want] = entry.sites[k]
    const seg = orig.slice(prev, offset)
    if (!out.startsWith(seg, at)) {
      const found = out.indexOf(seg, at)
      t.wrong++
      if (found < 0) return
      at = found
    }
    at += seg.length
    prev = offset + was.length
    if (out.startsWith(want, at)) {
      if (was !== want) t.done++
      at += want.length
    } else if (was !== want && out.startsWith(was, at)) {
      t.missed++
      at += was.length
    } else {
      t.wrong++
      const found = out.indexOf(orig.slice(prev, entry.sites[k + 1]?.[0] ?? orig.length), at)
      if (found < 0) return
      at = found
    }
  }
  if (out.slice(at) !== orig.slice(prev) || t.missed + t.wrong === before) t.wrong++
}
