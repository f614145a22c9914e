import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { ESLint } from 'eslint'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

// `pnpm lint` must catch what issue 16 forbids: an import cycle (type-only or through `import()`
// too), a handler package importing another, a library importing the CLI, and a stale
// `eslint-disable` comment. The repository's own eslint.config.js lints a small tree of files
// written to a temporary directory laid out like the repository (packages/<name>/src/...).

const repo = resolve(import.meta.dirname, '..')
let dir: string

const files: Record<string, string> = {
  // A circle made of a type-only import and a value import.
  'packages/hosts/src/a.ts': "import type { B } from './b.js'\nexport const a = (b: B): B => b\n",
  'packages/hosts/src/b.ts':
    "import { a } from './a.js'\nexport type B = { n: number }\nexport const b = a\n",
  // A circle through a dynamic import and a type in an `import()` type position.
  'packages/cli/src/c.ts': "export const load = () => import('./d.js')\n",
  'packages/cli/src/d.ts': "export type C = typeof import('./c.js').load\nexport const d = 1\n",
  // No circle: e imports f, f imports nothing.
  'packages/rewrite/src/e.ts': "import { f } from './f.js'\nexport const e = f\n",
  'packages/rewrite/src/f.ts': 'export const f = 1\n',
  // Boundaries.
  'packages/hosts/src/handler.ts':
    "import { sudoersStep } from '@cutover/sudoers'\nexport const h = sudoersStep\n",
  'packages/sqlfn/src/handler.ts':
    "import type { HostsOptions } from '../../hosts/src/step.js'\nexport type H = HostsOptions\n",
  'packages/sudoers/src/own.ts':
    "import { parseHosts } from '@cutover/rewrite'\nexport const own = parseHosts\n",
  'packages/rewrite/src/cli.ts': "import { run } from '@cutover/cli'\nexport const r = run\n",
  // A library's tests driving the CLI, by path or by name; the CLI's own tests may.
  'packages/rewrite/test/drive.test.ts':
    "import { run } from '../../cli/src/run.js'\nexport const r = run\n",
  'packages/sqlfn/test/drive.test.ts':
    "import { memoryIo } from '../../cli/src/io.js'\nimport { run } from '@cutover/cli'\nexport const r = [memoryIo, run]\n",
  'packages/hosts/test/other.test.ts':
    "import { sudoersStep } from '@cutover/sudoers'\nexport const s = sudoersStep\n",
  'packages/cli/test/sqlfn/drive.test.ts':
    "import { run } from '../../src/run.js'\nimport { planSql } from '@cutover/sqlfn'\nexport const r = [run, planSql]\n",
  // The transaction reaching into planning, steps or spec; its own files and fs/ are fine.
  'packages/rewrite/src/transaction/seam.ts':
    "import type { Validator } from '../step/step.js'\nimport type { OnceApplied } from '../plan/once.js'\nimport { resolveRecordedSecrets } from '../spec/secrets.js'\nimport type { TxParticipant } from './participant.js'\nimport { pinDir } from '../fs/dir-pin.js'\nexport type S = [Validator, OnceApplied, TxParticipant, typeof resolveRecordedSecrets, typeof pinDir]\n",
  'packages/rewrite/src/transaction/cli.ts':
    "import { run } from '@cutover/cli'\nexport const r = run\n",
  // The transaction's protocol touching files behind its file-system interface.
  'packages/rewrite/src/transaction/transaction.ts':
    "import { renameSync } from 'node:fs'\nimport { rm } from 'fs/promises'\nimport { inPinnedDir } from '../fs/dir-pin.js'\nimport type { TxFileSystem } from './file-system.js'\nimport type { Validator } from '../step/step.js'\nexport type T = [typeof renameSync, typeof rm, typeof inPinnedDir, TxFileSystem, Validator]\n",
  'packages/rewrite/src/apply/seam.ts':
    "import type { Validator } from '../step/step.js'\nexport type V = Validator\n",
  // A disable comment that disables nothing.
  'packages/rewrite/src/stale.ts':
    '// eslint-disable-next-line no-control-regex\nexport const s = /a/\n',
}

/** `rule` → line of each message, per file (relative path). */
async function lint(): Promise<Record<string, string[]>> {
  const eslint = new ESLint({ cwd: dir, overrideConfigFile: join(repo, 'eslint.config.js') })
  const results = await eslint.lintFiles(['packages'])
  const out: Record<string, string[]> = {}
  for (const r of results) {
    out[r.filePath.slice(dir.length + 1)] = r.messages.map(
      (m) => `${m.ruleId ?? 'directive'}:${m.line}`,
    )
  }
  return out
}

describe('pnpm lint (eslint.config.js)', () => {
  let found: Record<string, string[]>
  beforeAll(async () => {
    dir = tempDir('cutover-lint-')
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true })
      writeFileSync(join(dir, path), text)
    }
    found = await lint()
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reports an import cycle, type-only or not, at both ends', () => {
    expect(found['packages/hosts/src/a.ts']).toEqual(['cutover/no-cycle:1'])
    expect(found['packages/hosts/src/b.ts']).toEqual(['cutover/no-cycle:1'])
  })

  it('reports a cycle through import() and an import type', () => {
    expect(found['packages/cli/src/c.ts']).toEqual(['cutover/no-cycle:1'])
    expect(found['packages/cli/src/d.ts']).toEqual(['cutover/no-cycle:1'])
  })

  it('leaves imports without a cycle alone', () => {
    expect(found['packages/rewrite/src/e.ts']).toEqual([])
    expect(found['packages/rewrite/src/f.ts']).toEqual([])
  })

  it('reports a handler package importing another, by name or by path', () => {
    expect(found['packages/hosts/src/handler.ts']).toEqual(['no-restricted-imports:1'])
    expect(found['packages/sqlfn/src/handler.ts']).toEqual(['no-restricted-imports:1'])
    expect(found['packages/sudoers/src/own.ts']).toEqual([])
  })

  it('reports a library importing the CLI', () => {
    expect(found['packages/rewrite/src/cli.ts']).toEqual(['no-restricted-imports:1'])
  })

  it("reports a library's test importing the CLI, and keeps the handler rule there; the CLI's tests may", () => {
    expect(found['packages/rewrite/test/drive.test.ts']).toEqual(['no-restricted-imports:1'])
    expect(found['packages/sqlfn/test/drive.test.ts']).toEqual([
      'no-restricted-imports:1',
      'no-restricted-imports:2',
    ])
    expect(found['packages/hosts/test/other.test.ts']).toEqual(['no-restricted-imports:1'])
    expect(found['packages/cli/test/sqlfn/drive.test.ts']).toEqual([])
  })

  it('reports the transaction importing plan/, step/ or spec/, and keeps the engine rules there', () => {
    expect(found['packages/rewrite/src/transaction/seam.ts']).toEqual([
      'no-restricted-imports:1',
      'no-restricted-imports:2',
      'no-restricted-imports:3',
    ])
    expect(found['packages/rewrite/src/transaction/cli.ts']).toEqual(['no-restricted-imports:1'])
    expect(found['packages/rewrite/src/apply/seam.ts']).toEqual([])
  })

  it("reports the transaction's protocol reaching files behind its file system, and keeps the seam rule there", () => {
    expect(found['packages/rewrite/src/transaction/transaction.ts']).toEqual([
      'no-restricted-imports:1',
      'no-restricted-imports:2',
      'no-restricted-imports:3',
      'no-restricted-imports:5',
    ])
  })

  it('reports an eslint-disable comment that disables nothing', () => {
    expect(found['packages/rewrite/src/stale.ts']).toEqual(['directive:1'])
  })
})
