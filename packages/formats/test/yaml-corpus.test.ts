import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import type { InventoryHost } from '@cutover/rewrite'
import { parseYaml, yamlStep, type YamlOptions } from '../src/yaml/index.js'
import { mappedAt, referenceScalars } from './yaml-reference.js'
import { corpusFiles, financeContext as context, planText } from '@cutover/test-kit'

// The YAML corpus (public compose files, netplan and cloud-init examples, Ansible inventories and
// vars, kubespray group_vars, Kubernetes manifests) read by the yaml step's parser and checked
// against what `yaml` itself composes of the same text.

const files = corpusFiles('yaml')

describe('yaml parser on the real corpus', () => {
  it('has the corpus files (an empty folder would register no test below)', () => {
    expect(files.length).toBeGreaterThanOrEqual(100)
    // the shapes the corpus was chosen for are there
    const all = files.map((f) => f.text)
    expect(all.some((t) => /^\s*<<: \*/m.test(t))).toBe(true)
    expect(all.some((t) => /^---/m.test(t.slice(1)) && parseAllDocuments(t).length > 2)).toBe(true)
    expect(all.filter((t) => t.includes('\r\n')).length).toBeGreaterThanOrEqual(3)
    expect(all.some((t) => / [|>][-+]?\r?\n/.test(t))).toBe(true)
  })

  it.each(files.map((f) => [f.name, f] as const))(
    '%s: every scalar located, decoded from its range to the value yaml reads, at the path yaml gives',
    (_n, f) => {
      const { text } = f
      const doc = parseYaml(text)
      expect(doc.errors).toEqual([])
      const ref = referenceScalars(text)
      expect(doc.scalars.map((s) => s.start)).toEqual(ref.map((r) => r.offset))
      doc.scalars.forEach((s, k) => {
        const r = ref[k]!
        const where = `${f.name}:${s.start} ${JSON.stringify(text.slice(s.start, s.start + 40))}`
        expect({ where, value: s.literal.value, mapped: s.mapped }).toEqual({
          where,
          value: r.source,
          mapped: true,
        })
        expect({ where, key: s.key, path: s.path, document: s.document }).toEqual({
          where,
          key: r.key,
          path: r.path,
          document: r.document,
        })
        const { region } = s.literal
        expect(s.start <= region.start && region.start <= region.end && region.end <= s.end).toBe(
          true,
        )
        const wrong = [...s.literal.value].flatMap((c, i) =>
          mappedAt(text, s, i) ? [] : [`${where} value[${i}]=${JSON.stringify(c)}`],
        )
        expect(wrong).toEqual([])
      })
      // comments are outside every scalar and run to the end of their line
      for (const c of doc.comments) {
        expect(text[c.start]).toBe('#')
        expect(/^\r?(\n|$)/.test(text.slice(c.end, c.end + 2))).toBe(true)
        expect(
          doc.scalars.some(
            (s) =>
              s.start <= c.start &&
              c.start < s.literal.region.end &&
              s.literal.region.start <= c.start,
          ),
        ).toBe(false)
      }
    },
  )
})

// An IPv4 literal as the matcher finds one (docs/design.md §3): not preceded by a digit or `.`,
// not followed by a digit or by `.` and a digit.
const ADDRESS =
  /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\d|\.\d)/g

/**
 * An inventory moving every address the file's values hold (but the unspecified, loopback and
 * broadcast ones) to 198.18.0.0/15, where none of the corpus lives.
 */
function movingInventory(values: readonly string[]): InventoryHost[] {
  const olds = [...new Set(values.flatMap((v) => v.match(ADDRESS) ?? []))]
    .filter((a) => !/^(0\.|127\.|255\.)/.test(a))
    .sort()
  return olds.map((old, i) => ({
    name: `host${i}.corpus.example`,
    old,
    new: `198.18.${i >> 8}.${i & 255}`,
  }))
}

/** The documents of a text as `yaml` reads them, with each string value's old addresses moved (keys kept). */
function moved(text: string, inventory: readonly InventoryHost[]): unknown[] {
  const to = new Map(inventory.map((h) => [h.old, h.new]))
  const map = (v: unknown): unknown =>
    typeof v === 'string'
      ? v.replace(ADDRESS, (a) => to.get(a) ?? a)
      : Array.isArray(v)
        ? v.map(map)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, map(x)]))
          : v
  return read(text).map(map)
}

const read = (text: string): unknown[] =>
  parseAllDocuments(text).map((d) => d.toJS({ maxAliasCount: -1 }) as unknown)

describe('yaml step on the real corpus', () => {
  const opts = (o: Partial<YamlOptions>): YamlOptions => ({ files: ['x'], ...o })

  it.each(files.map((f) => [f.name, f] as const))(
    '%s: a plan that matches nothing edits nothing',
    async (_n, f) => {
      const r = await planText(
        yamlStep,
        f.text,
        opts({ addresses: 'names', variants: ['routing-keys'] }),
      )
      expect(r.edits).toEqual([])
      expect(r.after).toBe(f.text)
    },
  )

  const withAddresses = files.filter(
    (f) =>
      movingInventory(
        parseYaml(f.text)
          .scalars.filter((s) => !s.key)
          .map((s) => s.value),
      ).length > 0,
  )
  /** An inventory moving every address of the file's values, and its context. */
  const moving = (text: string) => {
    const inventory = movingInventory(
      parseYaml(text)
        .scalars.filter((s) => !s.key)
        .map((s) => s.value),
    )
    return { inventory, ctx: context({ inventory }) }
  }

  it('has files with addresses in their values', () =>
    expect(withAddresses.length).toBeGreaterThanOrEqual(30))

  it.each(withAddresses.map((f) => [f.name, f] as const))(
    '%s: every address of every value moved reads back as yaml expects; moved back, the bytes are the original',
    async (_n, f) => {
      const { inventory, ctx } = moving(f.text)
      const r = await planText(yamlStep, f.text, opts({ addresses: 'new' }), ctx)
      expect(r.edits.length).toBeGreaterThan(0)
      expect(parseYaml(r.after).errors).toEqual([])
      expect(read(r.after)).toEqual(moved(f.text, inventory))
      // nothing left to do: a second plan is empty
      expect((await planText(yamlStep, r.after, opts({ addresses: 'new' }), ctx)).edits).toEqual([])
      // and the way back restores every byte (comments, quoting, folding, line ends)
      const back = context({
        inventory: inventory.map((h) => ({ name: h.name, old: h.new, new: h.old })),
      })
      expect((await planText(yamlStep, r.after, opts({ addresses: 'new' }), back)).after).toBe(
        f.text,
      )
    },
  )

  it.each(withAddresses.map((f) => [f.name, f] as const))(
    '%s: under addresses: names each address becomes its name or, where only an address can stand, its new address; nothing else changes',
    async (_n, f) => {
      const { inventory, ctx } = moving(f.text)
      const r = await planText(yamlStep, f.text, opts({ addresses: 'names' }), ctx)
      expect(r.edits.length).toBeGreaterThan(0)
      expect(parseYaml(r.after).errors).toEqual([])
      // each string value of the result is its old value with every old address spelled as the
      // host's name or new address: the same documents, keys and other values
      const by = new Map(inventory.map((h) => [h.old, h]))
      const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      const fits = (before: unknown, after: unknown): boolean => {
        if (typeof before === 'string') {
          if (typeof after !== 'string') return false
          let re = ''
          let at = 0
          for (const m of before.matchAll(ADDRESS)) {
            const h = by.get(m[0])
            re += esc(before.slice(at, m.index))
            re += h ? `(?:${esc(h.name)}|${esc(h.new)})` : esc(m[0])
            at = m.index + m[0].length
          }
          return new RegExp(`^${re}${esc(before.slice(at))}$`).test(after)
        }
        if (Array.isArray(before))
          return (
            Array.isArray(after) &&
            after.length === before.length &&
            before.every((x, i) => fits(x, after[i]))
          )
        if (before !== null && typeof before === 'object') {
          if (after === null || typeof after !== 'object') return false
          const a = Object.entries(before)
          const b = Object.entries(after)
          return (
            a.length === b.length && a.every(([k, x], i) => b[i]![0] === k && fits(x, b[i]![1]))
          )
        }
        return Object.is(before, after)
      }
      const before = read(f.text)
      const after = read(r.after)
      expect(after.length).toBe(before.length)
      const wrong = before.flatMap((d, i) => (fits(d, after[i]) ? [] : [i]))
      expect(wrong).toEqual([])
      // nothing left to do: a second plan is empty
      expect((await planText(yamlStep, r.after, opts({ addresses: 'names' }), ctx)).edits).toEqual(
        [],
      )
    },
  )
})
