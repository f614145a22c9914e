import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { decodeText } from '@cutover/rewrite'
import { describe, expect, it } from 'vitest'
import { flattenRules, listAliases, memberKey, parseSudoers, printSudoers } from '../src/index.js'
import { jsonAliases, jsonFlat, presenceOnly } from './sudo-json.js'
import { corpusPath, cvtsudoers, need } from '@cutover/test-kit'

const CORPUS = corpusPath('sudoers') + '/'

function files(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((n) => {
      const p = join(dir, n)
      return statSync(p).isDirectory() ? files(p) : [p]
    })
}

const all = files(CORPUS)
const rel = (p: string) => p.slice(CORPUS.length)

describe('corpus round trip', () => {
  it('has the corpus', () => expect(all.length).toBeGreaterThan(100))
  it.each(all.map(rel))('%s prints back byte for byte', (name) => {
    const bytes = readFileSync(join(CORPUS, name))
    const { text } = decodeText(bytes)
    const doc = parseSudoers(text)
    expect(printSudoers(doc)).toBe(text)
    expect(doc.entries.map((e) => text.slice(e.start, e.end)).join('')).toBe(text)
  })
})

describe('semantic agreement with cvtsudoers', () => {
  const hasCvt = need('cvtsudoers')
  // each file read by cvtsudoers once: what it accepts, with the JSON it gave
  const accepted = hasCvt
    ? all.flatMap((p) => {
        const json = cvtsudoers(p)
        return json === undefined ? [] : [{ p, json }]
      })
    : []
  it('covers the files sudo accepts', () => {
    if (!hasCvt) return
    let agree = 0
    for (const { p, json } of accepted) {
      const doc = parseSudoers(decodeText(readFileSync(p)).text)
      const mine = {
        errors: doc.errors.map((e) => e.message),
        aliases: ourAliases(doc),
        rules: presenceOnly(flattenRules(doc)),
      }
      const theirs = { errors: [], aliases: jsonAliases(json), rules: presenceOnly(jsonFlat(json)) }
      expect.soft(mine, rel(p)).toEqual(theirs)
      if (isDeepStrictEqual(mine, theirs)) agree++
      else console.log(rel(p), JSON.stringify(mine.errors))
    }
    console.log(
      `sudoers: ${agree} of ${accepted.length} corpus files that cvtsudoers accepts agree (of ${all.length} files)`,
    )
    expect(agree).toBe(accepted.length)
    expect(accepted.length).toBeGreaterThan(50)
  })
})

function ourAliases(
  doc: ReturnType<typeof parseSudoers>,
): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {}
  for (const { type, def } of listAliases(doc))
    (out[type] ??= {})[def.name] = def.members.map(memberKey)
  return out
}
