import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { tempDir } from '@cutover/test-kit/temp'

// Credentials whose value is on a later line than their key, each within the 3 lines of context
// of a changed line (the address), and values after such keys that are no credential.
const OLD = '10.0.10.48'
const FILES: Record<string, string> = {
  'app.json': `{\n  "host": "${OLD}",\n  "password":\n    "s3cret-1",\n  "token":\n    null,\n  "replica": "${OLD}"\n}\n`,
  'config.php': [
    '<?php',
    `$host = '${OLD}';`,
    '$password =',
    "  's3cret-2';",
    '$other = 1;',
    `$replica = '${OLD}';`,
    'define(',
    "  'DB_PASSWORD',",
    "  's3cret-3'",
    ');',
    `$cfg = ['host' => '${OLD}', 'password' =>`,
    "  's3cret-4'];",
    "$pass = getenv('X');",
    `$db = '${OLD}';`,
    '',
  ].join('\n'),
  'app.yaml': [
    'db:',
    `  host: ${OLD}`,
    '  password:',
    '    s3cret-5',
    '  token: |',
    '    s3cret-6',
    `  replica: ${OLD}`,
    '  secret: >-',
    '    s3cret-7',
    '    s3cret-8',
    `  backup: ${OLD}`,
    '  api_key: s3cret-9',
    '    s3cret-10',
    '  password_rules:',
    '    min_length: 8',
    `  mirror: ${OLD}`,
    '',
  ].join('\n'),
  'my.ini': `[client]\nhost = ${OLD}\npassword =\n  s3cret-11\ntoken = a\\\n  s3cret-12\nreplica = ${OLD}\n`,
}

const SPEC = `version: 1
hosts:
  db.example.net: { old: ${OLD}, new: 10.0.10.49 }
steps:
  - text: { files: ["etc/*"], addresses: new }
`

describe('credentials whose value is on a later line than the key', () => {
  it('are masked in the terminal diff, the plan JSON and the Markdown and HTML reviews; the plan applies', async () => {
    const dir = tempDir('cutover-continued-')
    mkdirSync(join(dir, 'etc'))
    writeFileSync(join(dir, 'cutover.yaml'), SPEC)
    for (const [name, text] of Object.entries(FILES)) writeFileSync(join(dir, 'etc', name), text)
    const outputs: string[] = []
    for (const args of [
      ['plan'],
      ['plan', '--json'],
      ['plan', '--out', 'plan.json'],
      ['plan', '--format', 'markdown'],
      ['plan', '--format', 'html'],
    ]) {
      const io = memoryIo({ cwd: dir, env: {} })
      expect(await run([...args, '--root', '.'], io)).toBe(0)
      outputs.push(io.out() + io.err())
    }
    outputs.push(readFileSync(join(dir, 'plan.json'), 'utf8'))
    for (const o of outputs) expect(o).not.toMatch(/s3cret/)
    // the reviews hold the diffs, masked where the terminal's is
    expect(outputs[3]).toContain(" define(\n   'DB_PASSWORD',\n   '(sensitive)'\n")
    expect(outputs[4]!.split('(sensitive)').length - 1).toBeGreaterThanOrEqual(12)
    const diff = outputs[0]!
    // by position: the rest of each line is shown as it is
    expect(diff).toContain('   "password":\n     "(sensitive)",\n   "token":\n     null,\n')
    expect(diff).toContain(" $password =\n   '(sensitive)';\n")
    expect(diff).toContain(" define(\n   'DB_PASSWORD',\n   '(sensitive)'\n")
    expect(diff).toContain("   '(sensitive)'];\n $pass = getenv('X');\n")
    expect(diff).toContain(
      '   password:\n     (sensitive)\n   token: (sensitive)\n     (sensitive)\n',
    )
    expect(diff).toContain('   secret: (sensitive)\n     (sensitive)\n     (sensitive)\n')
    expect(diff).toContain(
      '   api_key: (sensitive)\n     (sensitive)\n   password_rules:\n     min_length: 8\n',
    )
    expect(diff).toContain(' password =\n   (sensitive)\n token = (sensitive)\n   (sensitive)\n')
    const plan = JSON.parse(outputs[5]!) as { changes: { after: string }[] }
    expect(plan.changes.every((f) => f.after.startsWith('masked-sha256:'))).toBe(true)
    // --show-sensitive shows them in the printed review, as it shows a value on its key's line
    const shown = memoryIo({ cwd: dir, env: {} })
    expect(await run(['plan', '--show-sensitive', '--root', '.'], shown)).toBe(0)
    for (let i = 1; i <= 12; i++) expect(shown.out()).toContain(`s3cret-${i}`)
    expect(shown.out()).not.toContain('(sensitive)')
    const applied = memoryIo({ cwd: dir, env: {} })
    expect(await run(['apply', 'plan.json', '--root', '.'], applied)).toBe(0)
    expect(applied.out() + applied.err()).not.toMatch(/s3cret/)
    expect(readFileSync(join(dir, 'etc/my.ini'), 'utf8')).toBe(
      FILES['my.ini']!.replaceAll(OLD, '10.0.10.49'),
    )
  })

  it("a near-miss leftover's reason does not quote a value whose key is on an earlier line", async () => {
    const dir = tempDir('cutover-continued-')
    mkdirSync(join(dir, 'etc'))
    writeFileSync(join(dir, 'cutover.yaml'), SPEC)
    writeFileSync(join(dir, 'etc', 'app.yaml'), `db:\n  host: ${OLD}\n  password:\n    x${OLD}0\n`)
    const io = memoryIo({ cwd: dir, env: {} })
    await run(['plan', '--json', '--root', '.'], io)
    const o = io.out() + io.err()
    expect(o).toContain('inside')
    expect(o).not.toContain(`x${OLD}0`)
  })
})
