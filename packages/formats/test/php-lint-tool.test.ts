import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runTool } from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { phpLint } from '../src/index.js'

// `php -l` as the command a machine runs on a file staged there: its verdict is `run`'s.
describe.runIf(need('php'))('php-lint as a tool', () => {
  const target = 'var/www/finance/config.php'
  async function both(text: string) {
    const p = join(mkdtempSync(join(tmpdir(), 'php-tool-')), '.config.php.tmp')
    writeFileSync(p, text)
    const argv = phpLint.tool!.argv(p)
    expect(argv[0]).toBe('php')
    expect(argv.at(-1)).toBe(p)
    const run = await phpLint.run(p, target)
    const tool = phpLint.tool!.verdict(await runTool(argv[0]!, argv.slice(1)), target, p)
    return { run, tool, p }
  }

  it('a file that does not parse: the message of run, naming the target', async () => {
    const { run, tool, p } = await both("<?php\n$CFG->dbhost = 'db.example' \n$x = 1;\n")
    expect(run).toMatch(/^php -l: .*syntax error.* in var\/www\/finance\/config\.php on line 3/)
    expect(run).not.toContain(p)
    expect(tool).toBe(run)
  })

  it('a file that compiles: no problem', async () => {
    const { run, tool } = await both("<?php\n$CFG->dbhost = 'db.example';\n")
    expect(run).toBeUndefined()
    expect(tool).toBeUndefined()
  })
})
