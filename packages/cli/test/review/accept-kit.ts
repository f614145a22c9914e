import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { expect } from 'vitest'
import type { AnyPlanDocument } from '@cutover/rewrite'

/*
 * What the acceptance tests of the review formats share: the plan's hash as a reviewer would
 * compute it, the text of a page whatever CSS hides, and the rows a review must show.
 */

/** `sha256:` and the hex digest of a file's bytes: what `sha256sum` gives for a saved plan. */
export function fileHash(path: string): string {
  return `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`
}

/** A saved plan document, as JSON. */
export function readPlan(path: string): AnyPlanDocument {
  return JSON.parse(readFileSync(path, 'utf8')) as AnyPlanDocument
}

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  minus: '\u2212',
  times: '\u00d7',
  hellip: '\u2026',
  mdash: '\u2014',
  ndash: '\u2013',
  rarr: '\u2192',
}

/**
 * Every text of an HTML page, hidden or shown (the unified diff a CSS switch hides, attribute
 * values), tags removed and character references decoded: what a reader of the file could get
 * out of it, for checking that a value is nowhere in it.
 */
export function everyText(html: string): string {
  const decode = (s: string) =>
    s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
      if (ref[0] === '#')
        return String.fromCodePoint(
          ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1)),
        )
      return NAMED[ref.toLowerCase()] ?? whole
    })
  const attributes = [...html.matchAll(/\s[a-z-]+="([^"]*)"/gi)].map((m) => m[1]!)
  return decode([html.replace(/<[^>]*>/g, ''), ...attributes].join('\n'))
}

/** The lines of a Markdown or page text, with runs of spaces and non-breaking spaces made one space. */
export function lines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/[\s\u00a0]+/g, ' ').trim())
}

/** `machine:path` of each change of a plan document, as the terminal review names it. */
export function changedFiles(doc: AnyPlanDocument): string[] {
  return doc.changes.map((c) =>
    'machine' in c && typeof c.machine === 'string' ? `${c.machine}:${c.target}` : c.target,
  )
}

/** `machine:path:line:col` of each leftover of a plan document (its planned position). */
export function leftoverPlaces(doc: AnyPlanDocument): Array<{ at: string; text: string }> {
  return doc.leftovers.map((l) => ({
    at: `${'machine' in l && typeof l.machine === 'string' ? `${l.machine}:` : ''}${l.target}:${l.line}:${l.col}`,
    text: l.text,
  }))
}

/**
 * Checks that `text` (a page's visible text, or Markdown) shows every changed file and every
 * leftover of the plan: each file by its `machine:path` as a word of its own (not the start of
 * a leftover's `machine:path:line:col`, nor of a longer path), each leftover on one line with its
 * place and its text.
 */
export function expectShowsPlan(text: string, doc: AnyPlanDocument, what: string): void {
  const shown = lines(text)
  for (const file of changedFiles(doc)) {
    const word = new RegExp(`(?:^|\\s)${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\s|$)`)
    expect(
      shown.some((l) => word.test(l)),
      `${what} shows the changed file ${file}`,
    ).toBe(true)
  }
  for (const left of leftoverPlaces(doc))
    expect(
      shown.some((l) => l.includes(left.at) && l.includes(left.text)),
      `${what} shows the leftover ${left.at} ${left.text}`,
    ).toBe(true)
}

/** Runs Debian's `cmark-gfm` (GitHub's own parser) on Markdown: the HTML a ticket would show. */
export function cmarkGfm(markdown: string): string {
  const r = spawnSync(
    'cmark-gfm',
    ['--unsafe', '-e', 'table', '-e', 'strikethrough', '-e', 'autolink', '-e', 'tagfilter'],
    { input: markdown, encoding: 'utf8', maxBuffer: 64 << 20 },
  )
  expect(r.status, r.stderr).toBe(0)
  return r.stdout
}
