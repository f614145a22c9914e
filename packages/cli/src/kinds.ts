import { isWholeKind, type SpecDocument, type StepKind } from '@cutover/rewrite'
import { isMap, isScalar, isSeq } from 'yaml'

// The one registry of the step kinds the command knows, used by plan, apply, init and schema.
// Each kind's package is imported when a spec names the kind, so that planning a hosts file
// does not load the parsers of sudoers and SQL. Any doubt loads every kind, in which case the
// engine sees exactly what it always did; so do the messages it writes.

/** A step kind of the registry: its name, and how to load it. */
interface Registered {
  name: string
  load(): Promise<StepKind<any>>
}

/** Every step kind the command knows, in the order the docs list them. */
const REGISTRY: readonly Registered[] = [
  { name: 'text', load: async () => (await import('@cutover/rewrite')).textStep },
  { name: 'php', load: async () => (await import('@cutover/formats/php')).phpStep },
  { name: 'ini', load: async () => (await import('@cutover/formats/ini')).iniStep },
  { name: 'json', load: async () => (await import('@cutover/formats/json')).jsonStep },
  { name: 'yaml', load: async () => (await import('@cutover/formats/yaml')).yamlStep },
  { name: 'js', load: async () => (await import('@cutover/formats/js')).jsStep },
  { name: 'hosts', load: async () => (await import('@cutover/hosts')).hostsStep },
  { name: 'sudoers', load: async () => (await import('@cutover/sudoers')).sudoersStep },
  { name: 'sql', load: async () => (await import('@cutover/sqlfn')).sqlStep },
  { name: 'zone', load: async () => (await import('@cutover/zone')).zoneStep },
]

/** Every step kind of the registry, loaded, in its order. */
export async function allStepKinds(): Promise<readonly StepKind<any>[]> {
  return Promise.all(REGISTRY.map((k) => k.load()))
}

/**
 * The step kinds to plan a spec with: those named by `names` when each is one this module can
 * load alone, else every kind.
 */
export async function stepKindsFor(
  names: readonly string[] | undefined,
): Promise<readonly StepKind<any>[]> {
  // copy and exchange are the spec's own steps: they load no kind
  const known = names?.filter((n) => !isWholeKind(n)).map((n) => REGISTRY.find((k) => k.name === n))
  if (!known || known.some((k) => k === undefined)) return allStepKinds()
  return Promise.all([...new Set(known)].map((k) => k!.load()))
}

/**
 * The kinds that the `steps:` of a spec name (its source parsed by `parseSpecDocument`), or
 * undefined when the source is not a well-formed mapping whose `steps` is a list of one-key
 * mappings (the validator then reports the problem, naming every kind).
 */
export function namedKinds(doc: SpecDocument): string[] | undefined {
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
