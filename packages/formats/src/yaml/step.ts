import { readFile } from 'node:fs/promises'
import {
  asWritten,
  commonKeys,
  type CommonOptions,
  decodeText,
  type Edit,
  escapeNeedles,
  firstStartingAt,
  keyScope,
  type Leftover,
  LineIndex,
  literalNeedles,
  literalRules,
  mergeLeftovers,
  outsideKeysReason,
  ruleFallback,
  ruleKeys,
  type RuleOptions,
  s,
  scanLeftovers,
  setSchema,
  type StepKind,
  type Validator,
  valueLeftovers,
  type ValueSpec,
} from '@cutover/rewrite'
import { YAML_ENCODINGS } from './encode.js'
import { parseYaml, type YamlDocument, type YamlScalar } from './parse.js'
import { ruleChanges, scalarEdits } from './rewrite.js'
import { planSet } from './set.js'

/** Options of the `yaml` step. */
export type YamlOptions = CommonOptions &
  RuleOptions & {
    /** `"a.b.c": value` writes the scalar at that key path; numeric segments index sequences. */
    set?: Record<string, ValueSpec>
  }

/**
 * The `yaml` step: rule keys apply to scalar values (plain, quoted, block), never to keys,
 * comments, anchors or tags; each edit is encoded for its scalar's style and read back; `set`
 * writes a scalar by key path in every document of the file that has it.
 */
export const yamlStep: StepKind<YamlOptions> = {
  name: 'yaml',
  init: [
    {
      group: 'yaml',
      files: ['**/*.[yY][aA][mM][lL]', '**/*.[yY][mM][lL]'],
      rank: 55,
      order: 25,
      step: {
        why: 'YAML files (compose, netplan, Ansible): addresses inside values become names; where only an address can stand, the new address',
        keys: 'addresses: names',
      },
    },
  ],
  encodings: YAML_ENCODINGS,
  options: s.object(
    { ...commonKeys, ...ruleKeys, set: setSchema('a dotted key path such as a.b.c') },
    { required: ['files'] },
  ),
  // a match spelled with escapes in a double-quoted scalar holds no byte of its needle, nor does
  // one spelled `''` in a single-quoted scalar or folded over lines (a space of it a line break)
  needles: (o, ctx) => {
    const n = literalNeedles(o, ctx)
    return [
      ...n,
      ...escapeNeedles(n, ['\\x', '\\u', '\\U'], { '/': '\\/', ' ': '\\ ', "'": "''" }),
      ...escapeNeedles(n, [], { ' ': '\n' }),
    ]
  },
  plan(file, o, ctx) {
    const text = file.text
    const doc = parseYaml(text)
    if (doc.errors.length) return { edits: [], diagnostics: doc.errors, leftovers: [] }
    const { edits: assigned, diagnostics } = planSet(doc, text, o.set, ctx)
    const covered = (e: { start: number; end: number }) =>
      assigned.some((a) => a.start < e.end && e.start < a.end)
    const inScope = keyScope(o.keys)
    const rules = literalRules(o, ctx, YAML_ENCODINGS)
    const edits: Edit[] = [...assigned]
    const refused: Leftover[] = []
    for (const sc of doc.scalars) {
      if (sc.key || !sc.mapped || !inScope(sc.path) || covered(sc)) continue
      const r = scalarEdits(text, sc, ruleChanges(sc, rules, ctx), doc.quote)
      edits.push(...r.edits)
      diagnostics.push(...r.notes)
      refused.push(...r.refused)
    }
    const reason = reasonAt(doc, o)
    const fallback = ruleFallback(o)
    // keys are never rewritten, but an old address in one is a leftover whatever its spelling
    const decoded = doc.scalars.map((sc) => sc.literal)
    const leftovers = mergeLeftovers(
      scanLeftovers(text, ctx, edits, { reason, fallback }),
      decoded,
      [
        ...valueLeftovers(decoded, ctx, edits, reason, fallback).filter(
          (l) => !refused.some((x) => x.start < l.end && l.start < x.end),
        ),
        ...refused,
      ],
    )
    return { edits, diagnostics, leftovers: asWritten(text, leftovers) }
  },
  validators: [
    {
      name: 'yaml-parse',
      inProcess: true,
      async run(stagedPath, target) {
        // decoded as the plan decoded it (BOM off, latin1 when not UTF-8), so columns match the file's text
        const { text } = decodeText(await readFile(stagedPath))
        const { errors } = parseYaml(text)
        if (!errors.length) return undefined
        const p = new LineIndex(text).position(errors[0]!.range.start)
        return `${target}:${p.line}:${p.col}: ${errors[0]!.message}`
      },
    } satisfies Validator,
  ],
}

/** Why an old value at a place of the file is left: a comment, a key, outside `keys:`, not a value. */
function reasonAt(doc: YamlDocument, o: YamlOptions): (start: number) => string | undefined {
  const inScope = keyScope(o.keys)
  const inside = (list: Array<{ start: number; end: number }>, at: number) => {
    const k = firstStartingAt(list, at + 1) - 1
    return k >= 0 && at < list[k]!.end ? list[k] : undefined
  }
  return (start) => {
    if (inside(doc.comments, start)) return 'inside a comment'
    const sc = inside(doc.scalars, start) as YamlScalar | undefined
    if (!sc) return 'not a scalar value'
    if (sc.key) return 'a mapping key, not a value'
    if (!sc.mapped) return 'in a scalar this step cannot map back to its source: edit it by hand'
    if (!inScope(sc.path)) return outsideKeysReason(o.keys ?? [])
    return undefined
  }
}
