import {
  type CST,
  isAlias,
  isPair,
  isScalar,
  isSeq,
  type Node,
  parseAllDocuments,
  type Scalar,
  visit,
} from 'yaml'
import type { YamlPathSegment, YamlScalar } from '../src/yaml/index.js'

// What `yaml` itself reads of a text, for the tests of the yaml step's parser to compare with.

/** A scalar as `yaml` composes it: its token's offset, the string it spells, where it is. */
export interface Reference {
  offset: number
  source: string
  key: boolean
  path: YamlPathSegment[]
  document: number
}

const segment = (key: unknown): string =>
  isScalar(key) ? (key.source ?? String(key.value)) : isAlias(key) ? `*${key.source}` : String(key)

/** Every scalar of every document, keys included, with its key path from the ancestors `visit` gives. */
export function referenceScalars(text: string): Reference[] {
  const out: Reference[] = []
  parseAllDocuments(text, { keepSourceTokens: true }).forEach((doc, document) =>
    visit(doc, {
      Scalar(role, node, ancestors) {
        const tok = node.srcToken as CST.Token | undefined
        if (!tok || !('offset' in tok)) return
        const chain = [...ancestors.slice(1), node] as unknown[]
        const path: YamlPathSegment[] = []
        for (let i = 0; i + 1 < chain.length; i++) {
          const parent = chain[i]
          const child = chain[i + 1]
          if (isSeq(parent)) path.push(parent.items.indexOf(child as Node))
          else if (isPair(parent) && child === parent.value) path.push(segment(parent.key))
        }
        out.push({
          offset: tok.offset,
          source: (node as Scalar).source ?? String((node as Scalar).value ?? ''),
          key: role === 'key',
          path,
          document,
        })
      },
    }),
  )
  return out.sort((a, b) => a.offset - b.offset)
}

/**
 * What a value character may stand on in the source: itself, a double-quoted escape, a
 * single-quoted `''`, or (for blanks and line feeds) the line breaks and indentation YAML folds.
 */
export function mappedAt(text: string, s: YamlScalar, i: number): boolean {
  const { value, region, starts, ends } = s.literal
  const c = value[i]!
  if (!starts || !ends) return text[region.start + i] === c
  const src = text.slice(starts[i]!, ends[i]!)
  if (starts[i]! < region.start || ends[i]! > region.end) return false
  if (src === c) return true
  if (c === ' ' || c === '\n' || c === '\t') return /^[ \t\r\n\\]*$/.test(src) || src[0] === '\\'
  return (s.style === 'double' && src[0] === '\\') || (s.style === 'single' && src === "''")
}
