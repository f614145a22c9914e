import { createHash } from 'node:crypto'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { iniStep } from '@cutover/formats/ini'
import { phpStep } from '@cutover/formats/php'
import {
  createEngine,
  fleetSpecNotes,
  textStep,
  toFleetPlanDocument,
  toPlanDocument,
  type FleetPlanDocument,
  type Plan,
  type PlanDocument,
} from '@cutover/rewrite'
import { tempDir } from '@cutover/test-kit/temp'

// Plans made by the real engine (text, ini and php steps) on real trees in a temporary directory.
const dirs: string[] = []

/** Removes the trees the plans of this file were made on. */
export function cleanTrees(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
}

/** A tree with these files (paths relative to it). */
export function tree(files: Record<string, string>): string {
  const root = tempDir('cutover-review-')
  dirs.push(root)
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return root
}

const engine = createEngine({ steps: [textStep, iniStep, phpStep] })

/** The plan document of `spec` on a tree of `files`, planned with `env`. */
export async function planDoc(
  spec: string,
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<PlanDocument> {
  const root = tree(files)
  const plan = await engine.plan(engine.parseSpec(spec, 'cutover.yaml'), { root, env })
  return toPlanDocument(plan)
}

/** The fleet plan document of `spec` (with `machines:`) on a tree per machine. */
export async function fleetDoc(
  spec: string,
  files: Record<string, Record<string, string>>,
): Promise<FleetPlanDocument> {
  const parsed = engine.parseSpec(spec, 'cutover.yaml')
  const plans: Array<{ name: string; plan: Plan; root: string }> = []
  for (const m of parsed.machines!) {
    const root = tree(files[m.name] ?? {})
    plans.push({
      name: m.name,
      root,
      plan: await engine.plan(parsed, { root, machine: m.name, label: `${m.name}:` }),
    })
  }
  return toFleetPlanDocument(
    plans.map(({ name, plan, root }) => ({
      machine: { ...parsed.machines!.find((m) => m.name === name)!, root },
      plan,
    })),
    fleetSpecNotes(parsed, plans),
  )
}

/** The hash of a document's JSON, as a saved plan's would be. */
export function hashOf(doc: object): string {
  return `sha256:${createHash('sha256')
    .update(JSON.stringify(doc, null, 2) + '\n')
    .digest('hex')}`
}

/** A spec moving one host, with a secret set in an ini file, and a rename in text files. */
export const SPEC = `version: 1
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
secrets:
  DB_PASSWORD: { env: DB_PASSWORD }
steps:
  - text: { files: ["etc/*.conf", "etc/odd/**"], addresses: new, replace: { oldname: newname } }
  - ini: { files: [etc/app.ini], set: { db.password: { secret: DB_PASSWORD } }, addresses: new }
`
