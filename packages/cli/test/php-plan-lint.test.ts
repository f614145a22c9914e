import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { phpLint } from '@cutover/formats'
import { need } from '@cutover/test-kit'
import { describe, expect, it, vi } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { makeTree } from './tree.js'
import { tempDir } from '@cutover/test-kit/temp'

// The planned PHP is linted by `plan` (the batch linter), not only by `apply`: a plan whose
// result does not parse fails at once with path:line:col and PHP's message.

/**
 * A tree where b.php is in scope of the php step as itself and of a text step, replacing
 * `from` by `to`, through the link a.php: the file is planned again with both steps.
 */
function linkedTree(bphp: string, from: string, to: string): string {
  const dir = makeTree({
    'cutover.yaml': [
      'version: 1',
      'hosts:',
      '  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }',
      'steps:',
      '  - php: { files: [b.php], addresses: names }',
      `  - text: { files: [a.php], replace: { "${from}": "${to}" } }`,
      '',
    ].join('\n'),
    'b.php': bphp,
  })
  symlinkSync('b.php', join(dir, 'a.php'))
  return dir
}

describe('plan lints the planned PHP', () => {
  it('reports at plan time, with path:line:col, a planned file php rejects; apply writes nothing', async () => {
    if (!need('php')) return
    const config = "<?php\n$h = '10.0.10.48';\n$x = 'unterminated;\n"
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nhosts:\n  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - php: { files: [var/www/config.php], addresses: names }\n',
      'var/www/config.php': config,
    })
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.'], io)).toBe(1)
    expect(io.err()).toMatch(
      /^var\/www\/config\.php:3:\d+: PLANNED_INVALID php -l: .*Parse error: .* in var\/www\/config\.php on line 3 \(the file on disk fails this check too\) \[in the planned text\]$/m,
    )
    expect(io.err()).not.toContain('cutover-plan-check')
    const out = memoryIo({ cwd: dir })
    expect(await run(['apply', '--root', '.', '--yes'], out)).toBe(1)
    expect(out.err()).toMatch(/PLANNED_INVALID/)
    expect(readFileSync(join(dir, 'var/www/config.php'), 'utf8')).toBe(config)
  })

  it('locates the column php-parser finds on the line php names', async () => {
    if (!need('php')) return
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nhosts:\n  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - php: { files: [c.php], addresses: names }\n',
      'c.php': '<?php\n$h = \'10.0.10.48\';\n$b = "a" "b";\n',
    })
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.'], io)).toBe(1)
    expect(io.err()).toMatch(
      /^c\.php:3:10: PLANNED_INVALID php -l: .* on line 3 \(the file on disk fails this check too\) \[in the planned text\]$/m,
    )
  })
  it('lints the text of a file planned again for its links: a syntax error there is reported at plan time', async () => {
    if (!need('php')) return
    // each path's plan alone parses, the file's plan with both steps does not
    const config = "<?php\n$h = '10.0.10.48';\n$x = 'A';\n"
    const dir = linkedTree(config, "'A';", "'A;")
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.'], io), io.out()).toBe(1)
    expect(io.err()).toMatch(
      /^b\.php:3:\d+: PLANNED_INVALID php -l: .*Parse error: .* in b\.php on line 3 \[in the planned text\]$/m,
    )
    expect(readFileSync(join(dir, 'b.php'), 'utf8')).toBe(config)
  })

  it("reports nothing of a path's own plan that the file's plan for its links replaced", async () => {
    if (!need('php')) return
    // b.php does not parse; the php step alone (b.php's own plan) leaves it so, the text step
    // through the link a.php mends it: the plan holds the file with both steps, which parses
    const dir = linkedTree("<?php\n$h = '10.0.10.48';\n$x = 'A;\n", "'A;", "'A';")
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.'], io), io.err()).toBe(0)
    expect(io.out()).toMatch(/^ {2}b\.php {2}php\+text /m)
  })

  it('lints a plan in one php process (no probe runs before it), and a plan without changes in none', async () => {
    if (!need('php')) return
    // a `php` first on PATH that counts its runs, then runs the real one
    const bin = tempDir('cutover-phpcount-')
    const php = execFileSync('sh', ['-c', 'command -v php'], { encoding: 'utf8' }).trim()
    writeFileSync(join(bin, 'php'), `#!/bin/sh\necho "$1" >> '${bin}/runs'\nexec '${php}' "$@"\n`)
    chmodSync(join(bin, 'php'), 0o755)
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nhosts:\n  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - php: { files: [a.php, b.php], addresses: names }\n',
      'a.php': "<?php\n$h = '10.0.10.48';\n",
      'b.php': "<?php\n$db = ['host' => '10.0.10.48'];\n",
    })
    // nothing to change: no php starts at all
    const done = makeTree({
      'cutover.yaml':
        'version: 1\nhosts:\n  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - php: { files: [a.php], addresses: names }\n',
      'a.php': "<?php\n$h = 'finance.thehumanjourney.net';\n",
    })
    const saved = process.env.PATH
    process.env.PATH = `${bin}:${saved}`
    // the linter's process is started ahead of its batch (at the plan's first changed file)
    const warm = vi.spyOn(phpLint, 'warm')
    try {
      const none = memoryIo({ cwd: done })
      expect(await run(['plan', '--root', '.'], none), none.err()).toBe(0)
      expect(existsSync(join(bin, 'runs'))).toBe(false)
      expect(warm).not.toHaveBeenCalled()
      const io = memoryIo({ cwd: dir })
      expect(await run(['plan', '--root', '.'], io), io.err()).toBe(0)
      expect(warm).toHaveBeenCalledTimes(1)
    } finally {
      process.env.PATH = saved
      warm.mockRestore()
    }
    // the batch linter's one process (its first argument is one of its -d settings), no `php -v`
    const runs = readFileSync(join(bin, 'runs'), 'utf8').split('\n').filter(Boolean)
    expect(runs).toEqual(['-d'])
  })

  it('starts no php for a plan whose changes hold no PHP file, though the spec has a php step', async () => {
    const bin = tempDir('cutover-phpcount-')
    writeFileSync(join(bin, 'php'), `#!/bin/sh\necho "$1" >> '${bin}/runs'\nexit 1\n`)
    chmodSync(join(bin, 'php'), 0o755)
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nhosts:\n  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - php: { files: ["*.php"], addresses: names }\n  - json: { files: ["*.json"], addresses: names }\n',
      'a.php': "<?php\n$h = 'finance.thehumanjourney.net';\n",
      'b.json': '{ "host": "10.0.10.48" }\n',
    })
    const saved = process.env.PATH
    process.env.PATH = `${bin}:${saved}`
    const warm = vi.spyOn(phpLint, 'warm')
    try {
      const io = memoryIo({ cwd: dir })
      expect(await run(['plan', '--root', '.'], io), io.err()).toBe(0)
      expect(io.out()).toContain('+{ "host": "finance.thehumanjourney.net" }')
      expect(warm).not.toHaveBeenCalled()
    } finally {
      process.env.PATH = saved
      warm.mockRestore()
    }
    expect(existsSync(join(bin, 'runs'))).toBe(false)
  })

  it('a php that hangs makes plan and apply fail with a timeout, and leaves no lock behind', async () => {
    const config = "<?php\n$h = '10.0.10.48';\n"
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nhosts:\n  finance.thehumanjourney.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - php: { files: [c.php], addresses: names }\n',
      'c.php': config,
    })
    const bin = tempDir('cutover-hung-php-')
    writeFileSync(join(bin, 'php'), '#!/bin/sh\nexec sleep 1000\n')
    chmodSync(join(bin, 'php'), 0o755)
    const saved = { PATH: process.env.PATH, T: process.env.CUTOVER_TOOL_TIMEOUT_MS }
    process.env.PATH = `${bin}:${saved.PATH}`
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '300'
    try {
      const io = memoryIo({ cwd: dir })
      expect(await run(['apply', '--root', '.', '--yes'], io)).toBe(1)
      expect(io.err()).toMatch(
        /^c\.php:\d+:\d+: PLANNED_INVALID php -l: php did not answer within 0\.3 s and was stopped/m,
      )
      expect(readFileSync(join(dir, 'c.php'), 'utf8')).toBe(config)
    } finally {
      process.env.PATH = saved.PATH
      if (saved.T === undefined) delete process.env.CUTOVER_TOOL_TIMEOUT_MS
      else process.env.CUTOVER_TOOL_TIMEOUT_MS = saved.T
    }
    if (!need('php')) return
    const again = memoryIo({ cwd: dir })
    expect(await run(['apply', '--root', '.', '--yes'], again)).toBe(0)
    expect(readFileSync(join(dir, 'c.php'), 'utf8')).toBe(
      "<?php\n$h = 'finance.thehumanjourney.net';\n",
    )
  })
})
