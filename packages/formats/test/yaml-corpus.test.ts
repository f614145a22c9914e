import { describe, expect, it } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { parseYaml } from '../src/yaml/index.js'
import { mappedAt, referenceScalars } from './yaml-reference.js'
import { corpusFiles } from '@cutover/test-kit'

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
