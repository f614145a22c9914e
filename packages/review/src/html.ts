import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { showControls } from '@cutover/rewrite'
import type { Diff2HtmlConfig } from 'diff2html'
import type { ColorSchemeType, DiffFile } from 'diff2html/lib/types.js'
import { cutDiff, diffFile, readDiff, type CutDiff } from './html-diff.js'
import {
  isLineDiff,
  shellWord,
  type Review,
  type ReviewFile,
  type ReviewLeftover,
  type ReviewNote,
  type ReviewObject,
} from './model.js'

/** The limits of a review page (see {@link toHtml}). */
export interface HtmlOptions {
  /** Diff lines shown of one file or object (default 1,000). */
  maxFileLines?: number
  /** Bytes of diff text shown of one file or object (default 100,000). */
  maxFileBytes?: number
  /** Diff lines the whole page shows (default 5,000). */
  maxPageLines?: number
  /** Bytes of diff text the whole page shows (default 500,000). */
  maxPageBytes?: number
}

/** The default limits of {@link toHtml}. */
export const HTML_LIMITS: Readonly<Required<HtmlOptions>> = Object.freeze({
  maxFileLines: 1_000,
  maxFileBytes: 100_000,
  maxPageLines: 5_000,
  maxPageBytes: 500_000,
})

/** The page's policy: no script, no request of any kind; inline styles and `data:` images only. */
const HTML_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

/**
 * The review as one self-contained HTML page: no script, no request (its Content-Security-Policy
 * forbids both), every style inline. The hash is at the top, then a summary, a navigation by
 * machine and file, each diff side by side and unified (switched by CSS alone), the leftovers by
 * reason, the accepted leftovers, warnings and notes, and the validators.
 *
 * A diff longer than `maxFileLines`/`maxFileBytes` is cut with a note of what was left out; when
 * the diffs shown still exceed `maxPageLines`/`maxPageBytes`, the largest are left out first,
 * each with a note, so a large plan never makes a page a browser chokes on. Every text is
 * escaped: a file name or a diff line holding markup injects nothing.
 */
export async function toHtml(review: Review, opts: HtmlOptions = {}): Promise<string> {
  const limits = { ...HTML_LIMITS, ...opts }
  const { html } = await import('diff2html')
  const render = (f: DiffFile, outputFormat: Diff2HtmlConfig['outputFormat']) =>
    html([f], { outputFormat, drawFileList: false, colorScheme: LIGHT, rawTemplates })
      // the templates' indentation only: a diff line never holds a line break
      .replace(/\n[ \t]+/g, '\n')

  const items = [...review.files, ...review.database]
  const shown = budget(items, limits)
  const diffHtml = (item: ReviewFile | ReviewObject): string => {
    const d = shown.get(item)!
    const notes = cutNotes(item, d, limits, review.saved)
    // left out for the page, or a first line longer than one diff's bytes: the note says it all
    if (d.dropped || (d.cut.lines === 0 && d.whole.lines > 0)) return notes
    if (d.cut.hunks.length === 0) {
      if (d.cut.plain.length === 0) return `${notes}<p class="empty">No change of text.</p>`
      // one block per line: a line break between them would show as an empty line
      // a database row's statement is no line diff: its `--` lines are comments
      const line = isLineDiff(item.diff)
        ? plainLine
        : (l: string) => `<span class="ctx">${esc(l)}</span>`
      return `${notes}<pre class="plain">${d.cut.plain.map(line).join('')}</pre>`
    }
    const file = diffFile(d.cut)
    return (
      `${notes}<div class="split">${render(file, 'side-by-side')}</div>` +
      `<div class="unified">${render(file, 'line-by-line')}</div>`
    )
  }

  const title = `cutover plan${review.profile === null ? '' : ` (profile ${review.profile})`}`
  return [
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n`,
    `<meta http-equiv="Content-Security-Policy" content="${esc(HTML_CSP)}">\n`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n`,
    `<title>${esc(title)}</title>\n`,
    `<style>\n${diff2htmlCss()}\n${PAGE_CSS}</style>\n</head>\n<body>\n`,
    `<input type="radio" name="view" id="view-split" class="view" checked>`,
    `<input type="radio" name="view" id="view-unified" class="view">\n`,
    `<header>\n<h1>${esc(title)}</h1>\n${hashLines(review)}`,
    `<p class="views">Diffs: <label for="view-split">side by side</label> `,
    `<label for="view-unified">unified</label></p>\n</header>\n`,
    `<div class="page">\n${nav(review)}<main>\n`,
    summary(review, shown),
    section('files', 'Files', review.files, (f) => item(f, diffHtml(f))),
    section('database', 'Database objects', review.database, (o) => item(o, diffHtml(o))),
    leftovers(review),
    notesSection('warnings', 'Warnings', review.warnings),
    notesSection('notes', 'Notes', review.notes),
    validators(review),
    `<footer>\n${hashLines(review)}</footer>\n</main>\n</div>\n</body>\n</html>\n`,
  ].join('')
}

const LIGHT = 'light' as ColorSchemeType

/**
 * Escapes a text for HTML, in an element or in a quoted attribute; its control characters shown
 * as the terminal shows them (a review's texts already are: this holds for any other, such as the
 * saved plan's name or a machine's root), so that no bidirectional control reorders the page.
 */
function esc(s: string): string {
  return showControls(s).replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

// diff2html's file wrappers without its file header (the page names each file itself, and the
// header's "Viewed" box needs its script) and without an element id (every file would repeat it)
const rawTemplates = {
  'side-by-side-file-diff':
    '<div class="d2h-file-wrapper"><div class="d2h-files-diff">' +
    '<div class="d2h-file-side-diff"><div class="d2h-code-wrapper"><table class="d2h-diff-table">' +
    '<tbody class="d2h-diff-tbody">{{{diffs.left}}}</tbody></table></div></div>' +
    '<div class="d2h-file-side-diff"><div class="d2h-code-wrapper"><table class="d2h-diff-table">' +
    '<tbody class="d2h-diff-tbody">{{{diffs.right}}}</tbody></table></div></div></div></div>',
  'line-by-line-file-diff':
    '<div class="d2h-file-wrapper"><div class="d2h-file-diff"><div class="d2h-code-wrapper">' +
    '<table class="d2h-diff-table"><tbody class="d2h-diff-tbody">{{{diffs}}}</tbody></table>' +
    '</div></div></div>',
  'generic-wrapper': '<div class="d2h-wrapper {{colorScheme}}">{{{content}}}</div>',
}

let css: string | undefined
/** diff2html's own stylesheet, from its package (it names no font file, image or import). */
function diff2htmlCss(): string {
  css ??= readFileSync(
    createRequire(import.meta.url).resolve('diff2html/bundles/css/diff2html.min.css'),
    'utf8',
  ).trim()
  return css
}

/** What the page shows of one diff: cut to the file limits, or left out for the page's. */
interface Shown {
  whole: CutDiff
  cut: CutDiff
  dropped: boolean
}

/**
 * Each diff cut to the limits of one file; then, while the page's diffs exceed the page's
 * limits, the largest left out first (the small ones are the many that stay readable).
 */
function budget(
  items: Array<ReviewFile | ReviewObject>,
  limits: Required<HtmlOptions>,
): Map<ReviewFile | ReviewObject, Shown> {
  const out = new Map<ReviewFile | ReviewObject, Shown>()
  let lines = 0
  let bytes = 0
  for (const i of items) {
    const whole = readDiff(i.diff)
    const cut = cutDiff(whole, limits.maxFileLines, limits.maxFileBytes)
    out.set(i, { whole: { ...whole, cutLines: 0, cutBytes: 0 }, cut, dropped: false })
    lines += cut.lines
    bytes += cut.bytes
  }
  const bySize = [...out.values()].sort(
    (a, b) => b.cut.lines - a.cut.lines || b.cut.bytes - a.cut.bytes,
  )
  for (const s of bySize) {
    if (lines <= limits.maxPageLines && bytes <= limits.maxPageBytes) break
    s.dropped = true
    lines -= s.cut.lines
    bytes -= s.cut.bytes
  }
  return out
}

/** The note of a diff cut or left out, saying the limit and what is missing. */
function cutNotes(
  item: ReviewFile | ReviewObject,
  s: Shown,
  l: Required<HtmlOptions>,
  saved: string | undefined,
): string {
  const where = saved === undefined ? '' : ` The saved plan ${esc(saved)} holds the whole diff.`
  const sensitive = 'sensitive' in item && (item.sensitive || item.binary)
  const shownAs = sensitive
    ? `<p class="note">Shown only as its size and hash (${item.sensitive ? 'a sensitive file' : 'not text'}).</p>`
    : ''
  if (s.dropped)
    return (
      `${shownAs}<p class="cut">Diff left out to keep the page small: ${n(s.whole.lines)} lines, ` +
      `${n(s.whole.bytes)} bytes. The page shows ${n(l.maxPageLines)} diff lines and ` +
      `${n(l.maxPageBytes)} bytes at most, leaving out the largest diffs first.${where}</p>`
    )
  if (s.cut.cutLines === 0) return shownAs
  if (s.cut.lines === 0)
    return (
      `${shownAs}<p class="cut">Diff left out: its first line is longer than the ` +
      `${n(l.maxFileBytes)} bytes one diff shows at most; ${n(s.whole.lines)} lines, ` +
      `${n(s.whole.bytes)} bytes.${where}</p>`
    )
  return (
    `${shownAs}<p class="cut">Diff cut: the first ${n(s.cut.lines)} of ${n(s.whole.lines)} lines shown; ` +
    `${n(s.cut.cutLines)} lines, ${n(s.cut.cutBytes)} bytes left out (one diff shows ` +
    `${n(l.maxFileLines)} lines and ${n(l.maxFileBytes)} bytes at most).${where}</p>`
  )
}

function plainLine(line: string): string {
  const cls = line.startsWith('+') ? 'ins' : line.startsWith('-') ? 'del' : 'ctx'
  return `<span class="${cls}">${esc(line)}</span>`
}

/** A number as the page writes it: 12,345. */
function n(x: number): string {
  return x.toLocaleString('en-US')
}

function hashLines(r: Review): string {
  const apply =
    r.saved === undefined
      ? `<p>This plan was not saved: the hash binds no file. Save it (<code>--save PLAN.json</code>) to apply exactly the plan reviewed, with <code>--expect</code>.</p>\n`
      : `<p>Saved as <code>${esc(r.saved)}</code>. Apply exactly this plan with ` +
        `<code>cutover apply ${esc(shellWord(r.saved))} --expect ${esc(r.hash)}</code></p>\n`
  return `<p class="hash">Plan <code>${esc(r.hash)}</code></p>\n${apply}`
}

function counts(x: { added: number; removed: number }): string {
  return `<span class="counts"><span class="add">+${x.added}</span> <span class="del">\u2212${x.removed}</span></span>`
}

/** The files of each machine (one group for a single-root plan), in the plan's order. */
function byMachine(r: Review): Array<{ title: string; files: ReviewFile[] }> {
  if (r.machines.length === 0)
    return [{ title: r.root === undefined ? 'Files' : `Files in ${r.root}`, files: r.files }]
  const groups = r.machines.map((m) => ({
    title: `${m.name} (${m.at})`,
    files: r.files.filter((f) => f.machine === m.name),
  }))
  const other = r.files.filter((f) => !r.machines.some((m) => m.name === f.machine))
  return other.length > 0 ? [...groups, { title: 'Other', files: other }] : groups
}

function nav(r: Review): string {
  const link = (id: string, text: string, extra = '') =>
    `<li><a href="#${esc(id)}">${esc(text)}</a>${extra}</li>\n`
  const groups = byMachine(r)
    .map(
      (g) =>
        `<h3>${esc(g.title)}</h3>\n<ul>\n` +
        g.files.map((f) => link(f.id, f.target, ` ${counts(f)}`)).join('') +
        (g.files.length === 0 ? '<li>no change</li>\n' : '') +
        `</ul>\n`,
    )
    .join('')
  const db =
    r.database.length === 0
      ? ''
      : `<h3>Database</h3>\n<ul>\n${r.database.map((o) => link(o.id, o.target, ` ${counts(o)}`)).join('')}</ul>\n`
  const parts = `<ul class="parts">\n${link('summary', 'Summary')}${link('leftovers', `Leftovers (${r.totals.leftovers})`)}${r.accepted.length ? link('accepted', `Accepted (${r.totals.accepted})`) : ''}${link('warnings', `Warnings (${r.totals.warnings})`)}${r.notes.length ? link('notes', `Notes (${r.notes.length})`) : ''}${link('validators', `Validators (${r.validators.length})`)}</ul>\n`
  return `<nav>\n${parts}${groups}${db}</nav>\n`
}

function summary(r: Review, shown: Map<ReviewFile | ReviewObject, Shown>): string {
  const t = r.totals
  const machines = t.machines > 0 ? ` on ${t.machines} machine${t.machines === 1 ? '' : 's'}` : ''
  const where =
    r.machines.length > 0
      ? `<p>Machines: ${r.machines.map((m) => `<strong>${esc(m.name)}</strong> (${esc(m.at)})`).join(', ')}</p>\n`
      : r.root !== undefined
        ? `<p>Root: <code>${esc(r.root)}</code></p>\n`
        : ''
  // a diff whose first line is over one diff's bytes shows nothing: it is left out, not cut
  const none = (s: Shown) => s.dropped || (s.cut.lines === 0 && s.whole.lines > 0)
  const cut = [...shown.values()].filter((s) => !none(s) && s.cut.cutLines > 0).length
  const dropped = [...shown.values()].filter(none).length
  const limited =
    cut + dropped === 0
      ? ''
      : `<p class="cut">To keep this page small, ${cut} diff${cut === 1 ? ' is' : 's are'} cut and ${dropped} left out; each says what is missing.</p>\n`
  const row = (f: ReviewFile | ReviewObject) =>
    `<tr><td class="nowrap">${esc('path' in f ? (f.machine ?? '') : 'database')}</td>` +
    `<td><a href="#${esc(f.id)}">${esc('path' in f ? f.path : f.target)}</a></td>` +
    `<td class="nowrap">${esc(f.kind)}</td><td class="num add">+${f.added}</td><td class="num del">\u2212${f.removed}</td>` +
    `<td>${esc(f.rules)}</td></tr>\n`
  return (
    `<section id="summary">\n<h2>Summary</h2>\n` +
    `<p><strong>${t.files} file${t.files === 1 ? '' : 's'}</strong>${machines} change (${counts(t)})` +
    `${r.database.length ? `, ${r.database.length} database object${r.database.length === 1 ? '' : 's'}` : ''}; ` +
    `${t.leftovers} leftover${t.leftovers === 1 ? '' : 's'}, ${t.accepted} accepted; ` +
    `${t.warnings} warning${t.warnings === 1 ? '' : 's'}; ${r.validators.length} validator${r.validators.length === 1 ? '' : 's'}.</p>\n` +
    where +
    `<p>Spec <code>${esc(r.spec)}</code></p>\n${limited}` +
    (r.files.length + r.database.length === 0
      ? '<p>Nothing to change.</p>\n'
      : `<table class="list">\n<thead><tr><th>machine</th><th>file</th><th>kind</th><th>+</th><th>\u2212</th><th>what the rules did</th></tr></thead>\n<tbody>\n` +
        [...r.files, ...r.database].map(row).join('') +
        `</tbody>\n</table>\n`) +
    `</section>\n`
  )
}

function section<T>(id: string, title: string, list: T[], each: (x: T) => string): string {
  if (list.length === 0) return ''
  return `<section id="${id}">\n<h2>${esc(title)} (${list.length})</h2>\n${list.map(each).join('')}</section>\n`
}

function item(f: ReviewFile | ReviewObject, diff: string): string {
  const name = 'path' in f ? f.path : f.target
  return (
    `<details class="item" id="${esc(f.id)}" open>\n<summary><a href="#${esc(f.id)}">${esc(name)}</a> ` +
    `<span class="kind">${esc(f.kind)}</span> ${counts(f)} <span class="rules">${esc(f.rules)}</span></summary>\n` +
    `${diff}\n</details>\n`
  )
}

function where(x: { path: string; line?: number; col?: number }): string {
  return x.line === undefined ? x.path : `${x.path}:${x.line}:${x.col ?? 1}`
}

function leftoverRows(items: ReviewLeftover[], accepted: boolean): string {
  return items
    .map(
      (l) =>
        `<tr><td><code>${esc(where(l))}</code>${l.onDisk ? ` <small>(on disk ${l.onDisk.line}:${l.onDisk.col})</small>` : ''}</td>` +
        `<td><code>${esc(l.text)}</code></td>` +
        (accepted ? `<td>${esc(l.reason)}</td><td>${esc(l.accepted ?? '')}</td>` : '') +
        `</tr>\n`,
    )
    .join('')
}

function leftovers(r: Review): string {
  const open =
    r.leftovers.length === 0
      ? '<p>None: no old value is left where the plan does not change it.</p>\n'
      : r.leftovers
          .map(
            (g) =>
              `<h3 class="reason">${esc(g.reason)} (${g.items.length})</h3>\n<table class="list">\n` +
              `<thead><tr><th>where</th><th>text</th></tr></thead>\n<tbody>\n${leftoverRows(g.items, false)}</tbody>\n</table>\n`,
          )
          .join('')
  const accepted =
    r.accepted.length === 0
      ? ''
      : `<section id="accepted">\n<h2>Accepted leftovers (${r.accepted.length})</h2>\n<table class="list">\n` +
        `<thead><tr><th>where</th><th>text</th><th>reason</th><th>accepted as</th></tr></thead>\n<tbody>\n` +
        `${leftoverRows(r.accepted, true)}</tbody>\n</table>\n</section>\n`
  return (
    `<section id="leftovers">\n<h2>Leftovers (${r.totals.leftovers})</h2>\n` +
    `<p>Old values the plan leaves as they are, grouped by why.</p>\n${open}</section>\n${accepted}`
  )
}

function notesSection(id: string, title: string, list: ReviewNote[]): string {
  if (list.length === 0 && id === 'notes') return ''
  const body =
    list.length === 0
      ? '<p>None.</p>\n'
      : `<table class="list">\n<thead><tr><th>where</th><th>code</th><th>message</th></tr></thead>\n<tbody>\n` +
        list
          .map(
            (w) =>
              `<tr><td><code>${esc(where(w))}</code></td><td>${esc(w.code)}</td><td>${esc(w.message)}</td></tr>\n`,
          )
          .join('') +
        `</tbody>\n</table>\n`
  return `<section id="${id}">\n<h2>${title} (${list.length})</h2>\n${body}</section>\n`
}

function validators(r: Review): string {
  const body =
    r.validators.length === 0
      ? '<p>None: no file of this plan has a validator.</p>\n'
      : `<p>Apply runs each on the staged files before it installs anything.</p>\n<ul>\n` +
        r.validators
          .map(
            (v) =>
              `<li><code>${esc(v.command)}</code> checks ${v.files.map((f) => `<code>${esc(f)}</code>`).join(', ')}</li>\n`,
          )
          .join('') +
        `</ul>\n`
  return `<section id="validators">\n<h2>Validators (${r.validators.length})</h2>\n${body}</section>\n`
}

// The page's own style: a navigation column beside the content, and the two views of every
// diff, one shown at a time by which radio button is checked (no script).
const PAGE_CSS = `
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1f2328;background:#fff}
code,pre{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
header{padding:12px 20px;border-bottom:1px solid #d0d7de;background:#f6f8fa}
header h1{margin:0 0 6px;font-size:20px}
header p,footer p{margin:4px 0}
.hash code{font-weight:600;word-break:break-all}
.view{position:absolute;opacity:0;pointer-events:none}
.views label{display:inline-block;padding:2px 10px;border:1px solid #d0d7de;border-radius:6px;cursor:pointer;background:#fff}
#view-split:checked~header label[for=view-split],#view-unified:checked~header label[for=view-unified]{background:#0969da;color:#fff;border-color:#0969da}
.unified{display:none}
#view-unified:checked~.page .split{display:none}
#view-unified:checked~.page .unified{display:block}
.page{display:grid;grid-template-columns:minmax(200px,280px) minmax(0,1fr)}
nav{position:sticky;top:0;align-self:start;max-height:100vh;overflow:auto;padding:12px;border-right:1px solid #d0d7de;font-size:13px;box-sizing:border-box}
nav h3{font-size:13px;margin:12px 0 4px;word-break:break-all}
nav ul{list-style:none;margin:0;padding:0}
nav li{margin:2px 0;word-break:break-all}
main{padding:12px 20px;min-width:0}
h2{font-size:17px;border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
h3.reason{font-size:14px;margin:16px 0 6px}
table.list{border-collapse:collapse;margin:6px 0;font-size:13px}
table.list th,table.list td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top;word-break:break-word}
table.list th{background:#f6f8fa;white-space:nowrap}
table.list td:first-child code{white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.nowrap,.counts{white-space:nowrap}
.add{color:#1a7f37}.del{color:#cf222e}
details.item{margin:14px 0;border:1px solid #d0d7de;border-radius:6px}
details.item>summary{padding:6px 10px;background:#f6f8fa;cursor:pointer;word-break:break-all}
details.item>summary a{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-weight:600;color:#1f2328;text-decoration:none}
.kind{display:inline-block;padding:0 6px;border-radius:10px;background:#ddf4ff;font-size:12px}
.rules{color:#59636e}
.d2h-file-wrapper{margin:0;border:0;border-top:1px solid #d0d7de;border-radius:0}
.cut,.note{margin:8px 10px;padding:6px 10px;border-left:4px solid #bf8700;background:#fff8c5}
.note{border-color:#0969da;background:#ddf4ff}
.empty{margin:8px 10px;color:#59636e}
pre.plain{margin:0;padding:8px 10px;border-top:1px solid #d0d7de;white-space:pre-wrap;word-break:break-all}
pre.plain .ins{display:block;background:#dfd}pre.plain .del{display:block;background:#fee8e9;color:inherit}pre.plain .ctx{display:block}
footer{margin-top:28px;padding-top:8px;border-top:1px solid #d0d7de}
`
