// Tables for the terminal and bench/RESULTS.md.

const s = (ms) => (ms === undefined ? '—' : (ms / 1000).toFixed(2))
const mb = (kb) => (kb ? (kb / 1024).toFixed(0) : '—')

function correctness(c) {
  if (!c) return ''
  if (c.note) return c.note
  if ('ok' in c && 'expected' in c && !('files' in c))
    return `${c.ok}/${c.expected} names right, ${c.missed} missed, ${c.wrong} wrong`
  const left = c.leftovers !== undefined ? `; ${c.leftovers} leftovers reported` : ''
  return `${c.done}/${c.expected} edits, ${c.missed} missed, ${c.wrong} wrong${left}`
}

/** A markdown table of one section's rows, with ratios to its anchor. */
export function table(rows) {
  const anchor = rows.find((r) => r.anchor && r.median !== undefined)
  // rows over ssh carry bytes: { toMachine, fromMachine, changed } (wire bytes, both directions)
  const withBytes = rows.some((r) => r.bytes)
  const bytesHead = withBytes ? ' to machines MB | from machines MB | bytes × changed files |' : ''
  const out = [
    `| tool | median s | min s | runs | × anchor | peak RSS MB |${bytesHead} correctness |`,
    `|---|---:|---:|---:|---:|---:|${withBytes ? '---:|---:|---:|' : ''}---|`,
  ]
  const MB = (b) => (b === undefined ? '—' : (b / 1048576).toFixed(2))
  for (const r of rows) {
    const ratio = anchor && r.median !== undefined ? (r.median / anchor.median).toFixed(2) : '—'
    const b = r.bytes
    const bytes = withBytes
      ? ` ${MB(b?.toMachine)} | ${MB(b?.fromMachine)} | ${b?.changed ? ((b.toMachine + b.fromMachine) / b.changed).toFixed(2) : '—'} |`
      : ''
    out.push(
      `| ${r.name}${r.anchor ? ' (anchor)' : ''} | ${r.error && r.median === undefined ? r.error : s(r.median)} | ${s(r.min)} | ${r.n} | ${ratio} | ${mb(r.rss)} |${bytes} ${correctness(r.check)} |`,
    )
  }
  return out.join('\n')
}

/** The row called `name`. */
export const row = (rows, name) => rows.find((r) => r.name === name)
