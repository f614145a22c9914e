import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

// every YAML parse of the process, counted: the command's and the rewrite package's
const parses = vi.hoisted(() => ({ sources: [] as string[] }))
vi.mock('yaml', async (original) => {
  const yaml = await original<typeof import('yaml')>()
  return {
    ...yaml,
    parseDocument: (source: string, ...rest: unknown[]) => {
      parses.sources.push(source)
      return (yaml.parseDocument as (...a: unknown[]) => unknown)(source, ...rest)
    },
  }
})

const { loadSpec } = await import('../src/make-plan.js')

const dir = tempDir('cutover-spec-once-')

const io = () => ({
  stdout: new PassThrough(),
  stderr: new PassThrough(),
  env: {},
  cwd: dir,
  isTTY: false,
  stderrIsTTY: false,
  stdinIsTTY: false,
  confirm: () => Promise.resolve(false),
})

describe('the spec of a command', () => {
  it('is parsed as YAML once: its kinds, its machines and the spec itself read one document', async () => {
    const source =
      'version: 1\nhosts:\n  f.example: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["etc/*.conf"], addresses: names }\n'
    writeFileSync(join(dir, 'cutover.yaml'), source)
    parses.sources.length = 0
    const { spec, engine } = await loadSpec({ spec: 'cutover.yaml' }, io())
    expect(engine.steps.map((k) => k.name)).toEqual(['text'])
    expect(spec.steps.map((s) => s.kind)).toEqual(['text'])
    expect(parses.sources).toEqual([source])
  })

  it('still reports every error of a spec that does not parse, from that one parse', async () => {
    const source = 'version: 1\nsteps: [\n'
    writeFileSync(join(dir, 'bad.yaml'), source)
    parses.sources.length = 0
    await expect(loadSpec({ spec: 'bad.yaml' }, io())).rejects.toMatchObject({
      name: 'SpecError',
      diagnostics: [expect.objectContaining({ code: 'YAML_SYNTAX' })],
    })
    expect(parses.sources).toEqual([source])
  })
})
