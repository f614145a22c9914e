import { spawnSync } from 'node:child_process'

// Markdown read back by Debian's cmark-gfm, GitHub's own parser, with the extensions GitHub
// turns on (tables, autolinks, the tag filter, strikethrough).
const EXTENSIONS = ['table', 'autolink', 'tagfilter', 'strikethrough'].flatMap((e) => ['-e', e])

/** cmark-gfm's rendering of `markdown` to `to` (`xml`, or `html` with raw HTML kept). */
export function cmark(markdown: string, to: 'xml' | 'html'): string {
  const r = spawnSync(
    'cmark-gfm',
    [...EXTENSIONS, '--to', to, ...(to === 'html' ? ['--unsafe'] : [])],
    { input: markdown, encoding: 'utf8', maxBuffer: 1 << 28 },
  )
  if (r.status !== 0) throw new Error(`cmark-gfm failed: ${r.stderr}`)
  return r.stdout
}

const unxml = (s: string) =>
  s
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&')

/** The parts of a Markdown document as cmark-gfm parses it (its XML). */
export interface Parsed {
  /** Each fenced code block: its info string and its content, in order. */
  codeBlocks: Array<{ info: string; text: string }>
  /** Each table: its header cells and the cells of each row, as plain text. */
  tables: Array<{ header: string[]; rows: string[][] }>
  /** The content of each raw HTML block. */
  htmlBlocks: string[]
  /** The number of inline raw HTML nodes (the review writes none). */
  htmlInline: number
  /** Each heading's text, with its level. */
  headings: Array<{ level: number; text: string }>
  /** The plain text of each list item. */
  items: string[]
  /** The plain text of each paragraph. */
  paragraphs: string[]
}

/** The plain text of an XML fragment: its text, code and line-break nodes. */
function plain(xml: string): string {
  return [
    ...xml.matchAll(
      /<(text|code)(?: xml:space="preserve")?>([\s\S]*?)<\/\1>|<(softbreak|linebreak) \/>/g,
    ),
  ]
    .map((m) => (m[3] ? '\n' : unxml(m[2]!)))
    .join('')
}

/** Parses `markdown` with cmark-gfm. */
export function parse(markdown: string): Parsed {
  const xml = cmark(markdown, 'xml')
  return {
    codeBlocks: [
      ...xml.matchAll(
        /<code_block(?: info="([^"]*)")?(?: xml:space="preserve")?(?:>([\s\S]*?)<\/code_block>| \/>)/g,
      ),
    ].map((m) => ({ info: unxml(m[1] ?? ''), text: unxml(m[2] ?? '') })),
    tables: [...xml.matchAll(/<table>([\s\S]*?)<\/table>/g)].map((t) => {
      const cells = (row: string) =>
        [...row.matchAll(/<table_cell>([\s\S]*?)<\/table_cell>|<table_cell \/>/g)].map((c) =>
          plain(c[1] ?? ''),
        )
      return {
        header: cells(/<table_header>([\s\S]*?)<\/table_header>/.exec(t[1]!)?.[1] ?? ''),
        rows: [...t[1]!.matchAll(/<table_row>([\s\S]*?)<\/table_row>/g)].map((r) => cells(r[1]!)),
      }
    }),
    htmlBlocks: [
      ...xml.matchAll(/<html_block(?: xml:space="preserve")?>([\s\S]*?)<\/html_block>/g),
    ].map((m) => unxml(m[1]!)),
    htmlInline: [...xml.matchAll(/<html_inline/g)].length,
    headings: [...xml.matchAll(/<heading level="(\d)">([\s\S]*?)<\/heading>/g)].map((m) => ({
      level: Number(m[1]),
      text: plain(m[2]!),
    })),
    items: [...xml.matchAll(/<item>([\s\S]*?)<\/item>/g)].map((m) => plain(m[1]!)),
    paragraphs: [...xml.matchAll(/<paragraph>([\s\S]*?)<\/paragraph>/g)].map((m) => plain(m[1]!)),
  }
}

/** The names of the HTML elements of cmark-gfm's HTML rendering (raw HTML kept). */
export function elements(markdown: string): Set<string> {
  return new Set(
    [...cmark(markdown, 'html').matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) =>
      m[1]!.toLowerCase(),
    ),
  )
}
