import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli } from '../packages/cli/test/run-cli.js'
import { tempDir } from '@cutover/test-kit/temp'

// Issue 15 §6: php and json rules match a literal's decoded value. A file whose only match is
// spelled with escapes ("\u0031\u0030.0.10.48", "\061\060.0.10.48") holds no byte of the needle:
// the plan must still read it (the prefilter looks at raw bytes). Through the CLI (in this process), read
// back by JSON.parse and PHP's include.

const NAME = 'finance.thehumanjourney.net'

async function applyOn(
  kind: 'php' | 'json',
  file: string,
  text: string,
): Promise<{ out: string; after: string }> {
  const dir = tempDir('cutover-decoded-')
  mkdirSync(join(dir, 'root/app'), { recursive: true })
  writeFileSync(join(dir, 'root/app', file), text)
  writeFileSync(
    join(dir, 'cutover.yaml'),
    `version: 1\nhosts:\n  ${NAME}: { old: 10.0.10.48, new: 10.0.20.48 }\nsteps:\n  - ${kind}: { files: [app/${file}], addresses: names, replace: { "a/b": "c/d" } }\n`,
  )
  const r = await runCli(['apply', '--root', 'root', '--yes'], { cwd: dir, env: { NO_COLOR: '1' } })
  expect(r.code, r.err).toBe(0)
  return { out: r.out + r.err, after: readFileSync(join(dir, 'root/app', file), 'utf8') }
}

describe('a file whose only match is spelled with escapes is planned', () => {
  it('json: "\\u0031\\u0030.0.10.48" and "a\\/b" are rewritten; JSON.parse reads the new values; no NEVER_MATCHED', async () => {
    const { out, after } = await applyOn(
      'json',
      'c.json',
      '{"db": "\\u0031\\u0030.0.10.48", "path": "a\\/b"}\n',
    )
    expect(JSON.parse(after)).toEqual({ db: NAME, path: 'c/d' })
    expect(out).not.toContain('NEVER_MATCHED')
  })

  it('php: "\\061\\060.0.10.48" is rewritten; PHP reads the new value', async () => {
    const { after } = await applyOn('php', 'c.php', '<?php\n$db = "\\061\\060.0.10.48";\n')
    const dir = tempDir('cutover-decoded-php-')
    writeFileSync(join(dir, 'c.php'), after)
    expect(
      execFileSync('php', ['-r', 'include $argv[1]; echo $db;', join(dir, 'c.php')], {
        encoding: 'utf8',
      }),
    ).toBe(NAME)
  })
})

describe('an old address in an escaped JSON object key', () => {
  it('is a leftover (keys are never rewritten, and the raw scan cannot see "\\u0031\\u0030.0.10.48")', async () => {
    const dir = tempDir('cutover-decoded-')
    mkdirSync(join(dir, 'root/app'), { recursive: true })
    writeFileSync(join(dir, 'root/app/c.json'), '{"\\u0031\\u0030.0.10.48": "db"}\n')
    writeFileSync(
      join(dir, 'cutover.yaml'),
      `version: 1\nhosts:\n  ${NAME}: { old: 10.0.10.48, new: 10.0.20.48 }\nsteps:\n  - json: { files: [app/c.json], addresses: names }\n`,
    )
    const r = await runCli(['plan', '--root', 'root'], { cwd: dir, env: { NO_COLOR: '1' } })
    expect(r.code, r.err).toBe(0)
    expect(Object.keys(JSON.parse(readFileSync(join(dir, 'root/app/c.json'), 'utf8')))).toEqual([
      '10.0.10.48',
    ])
    expect(r.out).toContain(
      'app/c.json:1:3: \\u0031\\u0030.0.10.48 — old address: an object key, not a string value',
    )
  })

  it('in a string value of a step with addresses: none, is a leftover too (it was dropped: its text is not spelled so in the file)', async () => {
    const dir = tempDir('cutover-decoded-')
    mkdirSync(join(dir, 'root/app'), { recursive: true })
    writeFileSync(join(dir, 'root/app/c.json'), '{"db": "h=10.0.10\\u002e48"}\n')
    writeFileSync(
      join(dir, 'cutover.yaml'),
      `version: 1\nhosts:\n  ${NAME}: { old: 10.0.10.48, new: 10.0.20.48 }\nsteps:\n  - json: { files: [app/c.json], replace: { x: y } }\n`,
    )
    const r = await runCli(['plan', '--root', 'root'], { cwd: dir, env: { NO_COLOR: '1' } })
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain(
      'app/c.json:1:11: 10.0.10\\u002e48 — old address: this step has addresses: none',
    )
  })
})

describe('only escapes that may spell a needle make a file be read', () => {
  it('a PHP file whose only backslashes are namespace separators and \\n is not read', async () => {
    const dir = tempDir('cutover-decoded-')
    mkdirSync(join(dir, 'root/app'), { recursive: true })
    writeFileSync(
      join(dir, 'root/app/ns.php'),
      '<?php\nnamespace App\\Db;\nuse \\core\\output;\necho "done\\n";\n',
    )
    writeFileSync(join(dir, 'root/app/c.php'), '<?php\n$db = "\\061\\060.0.10.48";\n')
    writeFileSync(
      join(dir, 'cutover.yaml'),
      `version: 1\nhosts:\n  ${NAME}: { old: 10.0.10.48, new: 10.0.20.48 }\nsteps:\n  - php: { files: ["app/*.php"], addresses: names }\n`,
    )
    const r = await runCli(['plan', '--root', 'root'], { cwd: dir, env: { NO_COLOR: '1' } })
    expect(r.code, r.err).toBe(0)
    expect(r.out).toContain('1 file(s) to change (2 in scope, 1 read)')
  })
})
