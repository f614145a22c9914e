import type { StepKind } from '@cutover/rewrite'
import { isMap, isScalar, isSeq, parseDocument } from 'yaml'

// Each step kind's package is imported when a spec names the kind, so that planning a hosts file
// does not load the parsers of sudoers and SQL. Any doubt loads every kind (`stepKinds`), in
// which case the engine sees exactly what it always did; so do the messages it writes.

const lazy: Record<string, () => Promise<StepKind<any>>> = {
  text: async () => (await import('@cutover/rewrite')).textStep,
  php: async () => (await import('@cutover/formats/php')).phpStep,
  ini: async () => (await import('@cutover/formats/ini')).iniStep,
  json: async () => (await import('@cutover/formats/json')).jsonStep,
  js: async () => (await import('@cutover/formats/js')).jsStep,
  hosts: async () => (await import('@cutover/hosts')).hostsStep,
  sudoers: async () => (await import('@cutover/sudoers')).sudoersStep,
  sql: async () => (await import('@cutover/sqlfn')).sqlStep,
}

/** Every step kind the command registers (see `stepKinds`). */
export async function allStepKinds(): Promise<readonly StepKind<any>[]> {
  return (await import('./steps.js')).stepKinds
}

/**
 * The step kinds to plan a spec with: those named by `names` when each is one this module can
 * load alone, else every kind.
 */
export async function stepKindsFor(
  names: readonly string[] | undefined,
): Promise<readonly StepKind<any>[]> {
  if (!names || names.some((n) => !Object.hasOwn(lazy, n))) return allStepKinds()
  return Promise.all([...new Set(names)].map((n) => lazy[n]!()))
}

/**
 * The kinds that the `steps:` of a spec's source name, or undefined when the source is not a
 * well-formed mapping whose `steps` is a list of one-key mappings (the validator then reports
 * the problem, naming every kind).
 */
export function namedKinds(source: string): string[] | undefined {
  const doc = parseDocument(source, { uniqueKeys: false })
  if (doc.errors.length || !isMap(doc.contents)) return undefined
  const steps = doc.contents.get('steps', true)
  if (!isSeq(steps)) return undefined
  const names: string[] = []
  for (const item of steps.items) {
    if (!isMap(item) || item.items.length !== 1 || !isScalar(item.items[0]!.key)) return undefined
    names.push(String(item.items[0]!.key.value))
  }
  return names
}
