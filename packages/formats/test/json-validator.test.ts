import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it, vi } from 'vitest'
import { jsonStep, parseJson } from '../src/index.js'
import { corpusFiles } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// the JSON-with-comments parser, counted: the validator takes it only for text that is not strict JSON
const parsed = vi.hoisted(() => ({ count: 0 }))
vi.mock('jsonc-parser', async (importOriginal) => {
  const m = await importOriginal<typeof import('jsonc-parser')>()
  const real = (m as unknown as { default?: typeof m }).default ?? m
  const parseTree: typeof real.parseTree = (...args) => {
    parsed.count++
    return real.parseTree(...args)
  }
  return { ...real, default: { ...real, parseTree }, parseTree }
})

it('the json-parse validator passes strict JSON without the JSON-with-comments parser, and takes it for the rest', async () => {
  const dir = tempDir('cutover-json-validator-')
  const v = jsonStep.validators![0]!
  writeFileSync(join(dir, 'strict.json'), '{"a": [1, "x", null]}\n')
  writeFileSync(join(dir, 'jsonc.json'), '// c\n{"a": 1,}\n')
  writeFileSync(join(dir, 'bad.json'), '{\n  "a": 1\n  "b": 2\n}\n')
  parsed.count = 0
  expect(await v.run(join(dir, 'strict.json'), 'strict.json')).toBeUndefined()
  expect(parsed.count).toBe(0)
  expect(await v.run(join(dir, 'jsonc.json'), 'jsonc.json')).toBeUndefined()
  expect(parsed.count).toBe(1)
  expect(await v.run(join(dir, 'bad.json'), 'etc/x.json')).toMatch(
    /^etc\/x\.json:3:3: invalid JSON: CommaExpected/,
  )
  expect(parsed.count).toBe(2)
})

it('what JSON.parse accepts the JSON-with-comments parser accepts too (the corpus)', async () => {
  const files = corpusFiles('json')
  expect(files.length).toBeGreaterThanOrEqual(5)
  for (const f of files) {
    let strict = true
    try {
      JSON.parse(f.text)
    } catch {
      strict = false
    }
    if (strict) expect((await parseJson(f.text)).errors).toEqual([])
  }
})
