import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const cli = join(import.meta.dirname, '../../dist/run.js')
const formats = join(import.meta.dirname, '../../../formats/dist/index.js')

/** Counts modules of the heavy parsers loaded in a fresh node after running `script`. */
function heavyLoaded(script: string): number {
  const code = `${script}.then(() => process.stdout.write(String(Object.keys(require.cache).filter((p) => /[\\\\/](php-parser|jsonc-parser|ts-morph|typescript)[\\\\/]/.test(p)).length)))`
  return Number(execFileSync(process.execPath, ['-e', code]).toString())
}

describe('heavy parsers load lazily (build first: npx tsc -b packages/cli)', () => {
  it('cutover --help loads none of php-parser, jsonc-parser, ts-morph', () => {
    const io = `{ stdout: { write() {} }, stderr: { write() {} }, env: {}, cwd: '.', isTTY: false, stdinIsTTY: false }`
    expect(
      heavyLoaded(`import(${JSON.stringify(cli)}).then((m) => m.run(['--help'], ${io}))`),
    ).toBe(0)
  })

  it('they load when a step needs them', () => {
    expect(
      heavyLoaded(
        `import(${JSON.stringify(formats)}).then((m) => Promise.all([m.parseJs('x', 'a.js'), m.parsePhp('<?php'), m.parseJson('{}')]))`,
      ),
    ).toBeGreaterThan(0)
  })
})
