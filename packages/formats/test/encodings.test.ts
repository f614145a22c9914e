import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  applyPlanDocument,
  createEngine,
  encodeValue,
  textStep,
  toPlanDocument,
  type StepKind,
} from '@cutover/rewrite'
import { describe, expect, it } from 'vitest'
import { iniStep, jsonStep, jsStep, phpStep } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

// The quoting of each format is data of its step kind (`encodings`), found by name among the
// kinds given to the engine and to apply: the engine itself knows only `raw`.

const KINDS: Array<[StepKind<any>, string[]]> = [
  [phpStep, ['php-single', 'php-double', 'php-heredoc']],
  [iniStep, ['ini-double', 'sh-double']],
  [jsonStep, ['json']],
  [jsStep, ['js-single', 'js-double', 'js-template']],
]

describe('encodings registered by the format step kinds', () => {
  it('each kind registers the encodings of its literals, and the engine finds them by name', () => {
    for (const [kind, names] of KINDS) {
      expect(Object.keys(kind.encodings ?? {}).sort(), kind.name).toEqual([...names].sort())
      const engine = createEngine({ steps: [textStep, kind] })
      for (const n of names) expect(engine.encoder(n), n).toBe(kind.encodings![n])
    }
    const bare = createEngine({ steps: [textStep] })
    expect(bare.encoder('php-single')).toBeUndefined()
    expect(bare.encoder('raw')!('a\'b"c')).toBe('a\'b"c')
    expect(bare.encoder('constructor')).toBeUndefined()
  })

  it('encode a value as each literal needs it', () => {
    const e = createEngine({ steps: [phpStep, iniStep, jsonStep, jsStep] })
    const v = 'it\'s "$x" \\ `y` ${z}\n'
    expect(encodeValue(v, ['php-single'], e.encoder)).toBe('it\\\'s "$x" \\\\ `y` ${z}\n')
    expect(encodeValue(v, ['php-double'], e.encoder)).toBe('it\'s \\"\\$x\\" \\\\ `y` \\${z}\\n')
    expect(encodeValue(v, ['sh-double'], e.encoder)).toBe('it\'s \\"\\$x\\" \\\\ \\`y\\` \\${z}\n')
    expect(encodeValue(v, ['json'], e.encoder)).toBe('it\'s \\"$x\\" \\\\ `y` ${z}\\n')
    expect(encodeValue(v, ['js-template'], e.encoder)).toBe('it\'s "$x" \\\\ \\`y\\` \\${z}\n')
  })

  it('an encoding no kind registers is a clear error', () => {
    expect(() => encodeValue('x', ['php-single'], {})).toThrow(
      expect.objectContaining({ code: 'ENCODING', message: expect.stringContaining('php-single') }),
    )
  })
})

describe('a saved plan names its encodings; apply encodes the secret then', () => {
  const SPEC = `version: 1
secrets:
  PW: { env: PW }
steps:
  - php: { files: ["config.php"], set: { DB_PASSWORD: { secret: PW } } }
`

  async function planned() {
    const root = tempDir('cutover-encodings-')
    writeFileSync(join(root, 'config.php'), "<?php\ndefine('DB_PASSWORD', 'old');\n")
    const state = join(tempDir('cutover-encodings-state-'), 'state')
    mkdirSync(state, { mode: 0o700 })
    const engine = createEngine({ steps: [textStep, phpStep] })
    const env = { PW: "it's" }
    const plan = await engine.plan(engine.parseSpec(SPEC, 'cutover.yaml'), { root, env })
    const doc = toPlanDocument(plan)
    return { root, state, engine, env, doc }
  }

  it('with the kinds given to apply', async () => {
    const { root, state, engine, env, doc } = await planned()
    const edit = doc.changes[0]!.edits.find((e) => e.secret)!
    expect(edit.secret).toEqual({ name: 'PW', encoding: ['php-single'] })
    expect(JSON.stringify(doc)).not.toContain("it's")
    await applyPlanDocument(doc, {
      stateDir: state,
      env,
      validator: (n) => engine.validator(n),
      encoder: (n) => engine.encoder(n),
    })
    expect(readFileSync(join(root, 'config.php'), 'utf8')).toBe(
      "<?php\ndefine('DB_PASSWORD', 'it\\'s');\n",
    )
  })

  it('refused, nothing written, when no kind given registers the encoding', async () => {
    const { root, state, engine, env, doc } = await planned()
    const err = await applyPlanDocument(doc, {
      stateDir: state,
      env,
      validator: (n) => engine.validator(n),
    }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ENCODING' })
    expect((err as Error).message).toContain('unknown encoding "php-single"')
    expect(readFileSync(join(root, 'config.php'), 'utf8')).toBe(
      "<?php\ndefine('DB_PASSWORD', 'old');\n",
    )
  })
})
