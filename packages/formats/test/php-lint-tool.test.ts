import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runTool, type ToolRun } from '@cutover/rewrite'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { phpLint } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

// `php -l` as the command a machine runs on a file staged there: its verdict is `run`'s.
describe.runIf(need('php'))('php-lint as a tool', () => {
  const target = 'var/www/finance/config.php'
  async function both(text: string) {
    const p = join(tempDir('php-tool-'), '.config.php.tmp')
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

  it("checks many files in one PHP process as a batch, with run's verdicts; a class, a fatal error and what follows it are left to php -l", async () => {
    const dir = tempDir('php-batch-')
    const texts = [
      "<?php\n$CFG->dbhost = 'db.example';\n",
      "<?php\n$CFG->dbhost = 'db.example' \n$x = 1;\n",
      '<?php\nfunction f() {}\nfunction f() {}\n',
      '<?php\nclass A extends Closure {}\n',
    ]
    const items = texts.map((text, i) => {
      const stagedPath = join(dir, `.f${i}.php.tmp`)
      writeFileSync(stagedPath, text)
      return { stagedPath, target: `var/www/f${i}.php` }
    })
    const batch = phpLint.tool!.batch!
    expect(batch.argv[0]).toBe('php')
    const ran = await new Promise<ToolRun>((resolve) => {
      const child = execFile(batch.argv[0]!, batch.argv.slice(1), (e, stdout, stderr) =>
        resolve({
          code: typeof e?.code === 'number' ? e.code : 0,
          stdout,
          stderr,
          timedOut: false,
          missing: false,
        }),
      )
      child.stdin!.end(batch.input(items.map((it) => it.stagedPath)))
    })
    const verdicts = batch.verdicts(ran, items)
    const runs = await Promise.all(items.map((it) => phpLint.run(it.stagedPath, it.target)))
    // a fatal compile error ends the driver: that file and the ones after it are not answered
    // (null: php -l checks each), nor is a class; the others get run's verdicts
    expect(verdicts).toEqual([runs[0], runs[1], null, null])
    expect(runs[1]).toMatch(/^php -l: .*syntax error.* in var\/www\/f1\.php on line 3/)
    expect(runs[2]).toMatch(/^php -l: .*Cannot redeclare f\(\)/)
    // an answer cut short answers nothing it did not print
    expect(
      batch.verdicts({ ...ran, stdout: ran.stdout.split('\n').slice(0, 2).join('\n') }, items),
    ).toEqual([runs[0], null, null, null])
  })

  it('a file that compiles: no problem', async () => {
    const { run, tool } = await both("<?php\n$CFG->dbhost = 'db.example';\n")
    expect(run).toBeUndefined()
    expect(tool).toBeUndefined()
  })
})
