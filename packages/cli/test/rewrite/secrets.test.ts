import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { tempDir } from '@cutover/test-kit/temp'

// a secret whose encoded forms differ from it in JSON ("\"", "\\") and in a quoted INI value
const SECRET = 'q"u\\ote;d'
const FORMS = [SECRET, 'q\\"u\\\\ote;d', 'q"u', 'ote;d']

const SPEC = `version: 1
hosts: {}
secrets:
  PW: { env: APP_PW }
steps:
  - json:
      files: ["etc/app.json"]
      set: { "db.password": { secret: PW } }
  - ini:
      files: ["etc/my.cnf"]
      set: { "client.password": { secret: PW } }
`

describe('secrets in json and ini files', () => {
  it('never show the value or its encoded form, and apply writes it encoded for each format', async () => {
    const dir = tempDir('cutover-secrets-')
    mkdirSync(join(dir, 'etc'))
    writeFileSync(join(dir, 'cutover.yaml'), SPEC)
    writeFileSync(join(dir, 'etc/app.json'), '{\n  "db": { "password": "old-json-pw" }\n}\n')
    writeFileSync(join(dir, 'etc/my.cnf'), '[client]\npassword = old-ini-pw\n')
    const env = { APP_PW: SECRET }
    const outputs: string[] = []
    for (const args of [['plan'], ['plan', '--json'], ['plan', '--out', 'plan.json']]) {
      const io = memoryIo({ cwd: dir, env })
      expect(await run([...args, '--root', '.'], io)).toBe(0)
      outputs.push(io.out() + io.err())
    }
    outputs.push(readFileSync(join(dir, 'plan.json'), 'utf8'))
    const applied = memoryIo({ cwd: dir, env })
    expect(await run(['apply', 'plan.json', '--root', '.'], applied)).toBe(0)
    outputs.push(applied.out() + applied.err())
    for (const o of outputs) {
      for (const f of FORMS) expect(o).not.toContain(f)
      expect(o).not.toContain('old-json-pw')
      expect(o).not.toContain('old-ini-pw')
    }
    expect(outputs[0]).toContain('+  "db": { "password": "(sensitive)" }\n')
    expect(outputs[0]).toContain('-password = (sensitive)\n+password = "(sensitive)"\n')
    expect(JSON.parse(readFileSync(join(dir, 'etc/app.json'), 'utf8')).db.password).toBe(SECRET)
    expect(readFileSync(join(dir, 'etc/my.cnf'), 'utf8')).toBe(
      '[client]\npassword = "q\\"u\\\\ote;d"\n',
    )
  })
})
