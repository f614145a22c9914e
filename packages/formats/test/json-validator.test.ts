import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as jsoncModule from 'jsonc-parser'
import { expect, it, vi } from 'vitest'
import { jsonStep, parseJson } from '../src/index.js'
import { corpusFiles } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// the JSON-with-comments parser, counted (a spy on the module object the validator loads, not a
// vi.mock: this file shares its worker's module graph): the validator takes it only for text
// that is not strict JSON
const jsonc = (jsoncModule as unknown as { default?: typeof jsoncModule }).default ?? jsoncModule

it('the json-parse validator passes strict JSON without the JSON-with-comments parser, and takes it for the rest', async () => {
  const dir = tempDir('cutover-json-validator-')
  const v = jsonStep.validators![0]!
  writeFileSync(join(dir, 'strict.json'), '{"a": [1, "x", null]}\n')
  writeFileSync(join(dir, 'jsonc.json'), '// c\n{"a": 1,}\n')
  writeFileSync(join(dir, 'bad.json'), '{\n  "a": 1\n  "b": 2\n}\n')
  const parseTree = vi.spyOn(jsonc, 'parseTree')
  try {
    expect(await v.run(join(dir, 'strict.json'), 'strict.json')).toBeUndefined()
    expect(parseTree).toHaveBeenCalledTimes(0)
    expect(await v.run(join(dir, 'jsonc.json'), 'jsonc.json')).toBeUndefined()
    expect(parseTree).toHaveBeenCalledTimes(1)
    expect(await v.run(join(dir, 'bad.json'), 'etc/x.json')).toMatch(
      /^etc\/x\.json:3:3: invalid JSON: CommaExpected/,
    )
    expect(parseTree).toHaveBeenCalledTimes(2)
  } finally {
    parseTree.mockRestore()
  }
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
