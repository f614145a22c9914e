import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { phpLint } from '../src/index.js'
import { corpusFiles, need } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// Files `php -l` rejects at compile time, not only at parse time, and files it accepts although
// they look suspicious: the batch (one PHP process for many files) must give the same verdicts,
// and the same messages, as `php -l` on each file alone.
const CASES: Record<string, string> = {
  'parse.php': '<?php $a = ;\n',
  'unterminated.php': "<?php echo 'ok\n",
  'this.php': '<?php $this = 1;\n',
  'param.php': '<?php function f($a, $a) {}\n',
  'redeclare-internal.php': '<?php function strlen() {}\n',
  'redeclare.php': '<?php\nfunction g() {}\nfunction g() {}\n',
  'break.php': '<?php break;\n',
  'write-context.php': '<?php $a[];\n',
  'named-arg.php': '<?php f(a: 1, 2);\n',
  'use-clash.php': '<?php use A\\B; use C\\B;\n',
  'const-expr.php': '<?php static $a = foo();\n',
  'goto.php': '<?php goto x;\n',
  'namespace-mix.php': '<?php namespace A; namespace B { }\n',
  'namespace-late.php': '\xef\xbb\xbf<?php\nnamespace A;\n',
  'codepoint.php': '<?php $x = "\\u{zz}";\n',
  // checked against the class's parent when it is compiled: the batch leaves these to php -l
  'final-parent.php': '<?php class A extends Closure {}\n',
  'iface.php': '<?php class Q implements Traversable {}\n',
  'enum.php': '<?php enum E: string { case A = "a"; case B = "a"; }\n',
  // valid: both declare the same function, as config files of two VMs may
  'helper-1.php':
    "<?php\nfunction db_host() { return 'db.internal'; }\n$cfg = ['host' => db_host(), 'model' => App\\User::class];\n",
  'helper-2.php': "<?php\nfunction db_host() { return 'db2.internal'; }\n",
  'strict.php': "<?php\ndeclare(strict_types=1);\n$x = 'a';\n",
  'div.php': '<?php const A = 1 % 0;\n',
  'html.php': "<html><?= 'x' ?></html>\n",
  'halt.php': '<?php\necho 1;\n__halt_compiler();\n}}} not php\n',
}

/** The real `php` (the first on the PATH). */
function realPhp(): string {
  return execFileSync('sh', ['-c', 'command -v php'], { encoding: 'utf8' }).trim()
}

/**
 * A directory holding a `php` that appends a line to `bin/<log>` (`run`, or its pid for `pids`)
 * and then runs `then` (by default execs the real `php` with its arguments, under the same pid):
 * put first on the PATH, it tells the linter's processes.
 */
function phpShim(log: 'runs' | 'pids', then?: string): string {
  const bin = tempDir('cutover-phpshim-')
  const line = log === 'runs' ? 'echo run' : 'echo $$'
  writeFileSync(
    join(bin, 'php'),
    `#!/bin/sh\n${line} >> '${bin}/${log}'\n${then ?? `exec '${realPhp()}' "$@"`}\n`,
    { mode: 0o755 },
  )
  return bin
}

/** Runs `fn` with `bin` first on the PATH of this process. */
async function withPath<T>(bin: string, fn: () => Promise<T>): Promise<T> {
  const path = process.env.PATH
  process.env.PATH = `${bin}:${path}`
  try {
    return await fn()
  } finally {
    process.env.PATH = path
  }
}

/**
 * Runs `body` as a command of its own (an ES module in which the built linter is `phpLint`), with
 * `bin` first on its PATH.
 */
function command(bin: string, body: string): SpawnSyncReturns<string> {
  const lint = new URL('../dist/php/lint.js', import.meta.url).href
  return spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { phpLint } from ${JSON.stringify(lint)}\n${body}`],
    {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    },
  )
}

/**
 * The command `r` ended well, printing `out`, and the `php` it started (its pid in `bin/pids`)
 * ended and was reaped by the command itself: not even a zombie left for init to reap.
 */
function expectEnded(r: SpawnSyncReturns<string>, out: string, bin: string): void {
  const pid = Number(readFileSync(join(bin, 'pids'), 'utf8').trim())
  const state = pid > 0 ? processState(pid) : 'gone'
  // a linter left running (the failure this looks for) does not outlive the test
  if (state !== 'gone') process.kill(pid, 'SIGKILL')
  expect(r.status, r.stderr).toBe(0)
  expect(r.stdout).toBe(out)
  expect(pid).toBeGreaterThan(0)
  expect(state).toBe('gone')
}

/** A command that warms the linter, never gives it a file, and ends. */
const WARM_UNUSED = `phpLint.warm()\nawait new Promise((r) => setTimeout(r, 300))\nprocess.stdout.write('end')\n`

function stage(
  files: Record<string, string | Buffer>,
): Array<{ stagedPath: string; target: string }> {
  const dir = tempDir('cutover-phpbatch-')
  return Object.entries(files).map(([name, text]) => {
    const stagedPath = join(dir, `.${name}.cutover-tmp`)
    writeFileSync(stagedPath, typeof text === 'string' ? Buffer.from(text, 'latin1') : text)
    return { stagedPath, target: `etc/${name}` }
  })
}

/** The state letter of process `pid` (`Z` a zombie), or `gone`. */
function processState(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]!
  } catch {
    return 'gone'
  }
}

async function oneByOne(
  items: ReadonlyArray<{ stagedPath: string; target: string }>,
): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = []
  for (const it of items) out.push(await phpLint.run(it.stagedPath, it.target))
  return out
}

describe('php-lint: many files in one PHP process', () => {
  it('gives the verdict and the message of php -l for every file, compile errors included', async () => {
    if (!need('php')) return
    const items = stage(CASES)
    const batch = await phpLint.runBatch!(items)
    const single = await oneByOne(items)
    const names = Object.keys(CASES)
    expect(Object.fromEntries(names.map((n, i) => [n, batch[i]]))).toEqual(
      Object.fromEntries(names.map((n, i) => [n, single[i]])),
    )
    // the cases are what they claim: php -l rejects the first 16, accepts the rest
    expect(single.slice(0, 16).every((m) => m?.startsWith('php -l: '))).toBe(true)
    expect(single.slice(16).filter((m) => m !== undefined)).toEqual([])
    expect(batch[names.indexOf('this.php')]).toBe(
      'php -l: Fatal error: Cannot re-assign $this in etc/this.php on line 1',
    )
    for (const m of batch) expect(m ?? '').not.toContain(tmpdir())
  })

  it('agrees with php -l on every PHP file of the corpus', async () => {
    if (!need('php')) return
    const files = Object.fromEntries(corpusFiles('php').map((f) => [f.name, f.bytes]))
    expect(Object.keys(files).length).toBeGreaterThan(5)
    const items = stage(files)
    expect(await phpLint.runBatch!(items)).toEqual(await oneByOne(items))
  })

  it('answers a missing file like php -l, keeps the order of a large batch, and runs few processes', async () => {
    if (!need('php')) return
    const bin = phpShim('runs')
    const many: Record<string, string> = {}
    for (let i = 0; i < 300; i++)
      many[`vm${i}.php`] = i % 97 === 5 ? `<?php $x = '${i};\n` : `<?php $db = 'db${i}.internal';\n`
    const items = [
      ...stage(many),
      { stagedPath: join(tmpdir(), 'cutover-no-such-dir', 'gone.php'), target: 'etc/gone.php' },
    ]
    const got = await withPath(bin, () => phpLint.runBatch!(items))
    // one driver per core at most, and php -l once, for the file the driver could not read
    const runs = readFileSync(join(bin, 'runs'), 'utf8').split('\n').filter(Boolean).length
    expect(runs).toBeLessThanOrEqual(Math.max(1, availableParallelism()) + 1)
    expect(got).toHaveLength(301)
    const bad = got.flatMap((m, i) => (m ? [i] : []))
    expect(bad).toEqual([5, 102, 199, 296, 300])
    expect(got[102]).toMatch(/^php -l: Parse error: .* in etc\/vm102\.php on line 1$/)
    expect(got[300]).toBe(await phpLint.run(items[300]!.stagedPath, 'etc/gone.php'))
  })

  it('names the target in the message of a file whose staged path holds a newline, as php -l does', async () => {
    if (!need('php')) return
    // a parse error the batch answers, and a class's compile error it leaves to php -l
    const items = stage({
      'a\nparse.php': '<?php $a = ;\n',
      'b\nclass.php': '<?php class A { function f($a, $a) {} }\n',
    })
    const batch = await phpLint.runBatch!(items)
    expect(batch).toEqual(await oneByOne(items))
    expect(batch[0]).toMatch(/^php -l: Parse error: .* in etc\/a\nparse\.php on line 1$/)
    expect(batch[1]).toBe(
      'php -l: Fatal error: Redefinition of parameter $a in etc/b\nclass.php on line 1',
    )
  })

  it('warm starts the linter ahead of its batch, which then uses it: one process in all', async () => {
    if (!need('php')) return
    const bin = phpShim('runs')
    const got = await withPath(bin, async () => {
      phpLint.warm!()
      // started now, before any file is given to it
      for (let i = 0; i < 200 && !existsSync(join(bin, 'runs')); i++)
        await new Promise((r) => setTimeout(r, 10))
      expect(existsSync(join(bin, 'runs'))).toBe(true)
      return phpLint.runBatch!(stage({ 'ok.php': '<?php $a = 1;\n', 'bad.php': '<?php $a = ;\n' }))
    })
    expect(got[0]).toBeUndefined()
    expect(got[1]).toMatch(/^php -l: .*Parse error: .* in etc\/bad\.php on line 1$/)
    expect(readFileSync(join(bin, 'runs'), 'utf8')).toBe('run\n')
  })

  it("counts PHP's time only: the time this thread is busy past the timeout does not stop it", async () => {
    if (!need('php')) return
    // a php that starts late: it has not answered when this thread is free again
    const bin = phpShim('runs', `sleep 2.5\nexec '${realPhp()}' "$@"`)
    const saved = process.env.CUTOVER_TOOL_TIMEOUT_MS
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '1000'
    try {
      const got = await withPath(bin, async () => {
        const batch = phpLint.runBatch!(
          stage({ 'ok.php': '<?php $a = 1;\n', 'bad.php': '<?php $a = ;\n' }),
        )
        // the plan's `finish` beside the lint: no answer is read, nor the timer run, meanwhile
        const until = Date.now() + 2000
        while (Date.now() < until);
        return batch
      })
      expect(got[0]).toBeUndefined()
      expect(got[1]).toMatch(/^php -l: .*Parse error: .* in etc\/bad\.php on line 1$/)
    } finally {
      if (saved === undefined) delete process.env.CUTOVER_TOOL_TIMEOUT_MS
      else process.env.CUTOVER_TOOL_TIMEOUT_MS = saved
    }
  })

  it('keeps its PHP process for the next batch, and compiles a file given again anew', async () => {
    if (!need('php')) return
    const bin = phpShim('runs')
    const items = stage({ 'a.php': '<?php $a = 1;\n', 'b.php': '<?php $b = 2;\n' })
    const [first, second] = await withPath(bin, async () => {
      const before = await phpLint.runBatch!(items)
      // the same paths, one now broken: OPcache's cached compile must not answer for it
      writeFileSync(items[1]!.stagedPath, '<?php $b = ;\n')
      return [before, await phpLint.runBatch!(items)]
    })
    expect(first).toEqual([undefined, undefined])
    expect(second[0]).toBeUndefined()
    expect(second[1]).toMatch(/^php -l: .*Parse error: .* in etc\/b\.php on line 1$/)
    expect(readFileSync(join(bin, 'runs'), 'utf8')).toBe('run\n')
  })

  it('a linter kept after its batch does not keep the process running, and ends with it', () => {
    if (!need('php')) return
    const bin = phpShim('pids')
    const [item] = stage({ 'ok.php': '<?php $a = 1;\n' })
    const r = command(
      bin,
      `const got = await phpLint.runBatch([${JSON.stringify(item)}])\nprocess.stdout.write(JSON.stringify(got))\n`,
    )
    expectEnded(r, '[null]', bin)
  })

  it('a linter not kept after its batch is waited for, and killed when it does not end', () => {
    if (!need('php')) return
    // a `php` that records its pid, runs the real one, then does not end (same pid)
    const bin = phpShim('pids', `'${realPhp()}' "$@"\nexec sleep 30`)
    const [a, b] = stage({ 'a.php': '<?php $a = 1;\n', 'b.php': '<?php $b = ;\n' })
    // two batches at once: two linters, one kept as the spare, the other ended at its batch's end
    const r = command(
      bin,
      `const got = await Promise.all([phpLint.runBatch([${JSON.stringify(a)}]), phpLint.runBatch([${JSON.stringify(b)}])])\nprocess.stdout.write(JSON.stringify(got.flat().map((m) => m === undefined)))\n`,
    )
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout).toBe('[true,false]')
    const pids = readFileSync(join(bin, 'pids'), 'utf8').trim().split('\n').map(Number)
    expect(pids).toHaveLength(2)
    const states = pids.map(processState)
    for (const [k, pid] of pids.entries()) if (states[k] !== 'gone') process.kill(pid, 'SIGKILL')
    // both ended and reaped by the command itself, not left running after it
    expect(states).toEqual(['gone', 'gone'])
  })

  it('a warmed linter whose php never reads its stdin is killed when the command ends', () => {
    const bin = phpShim('pids', 'exec sleep 1000')
    const r = command(bin, WARM_UNUSED)
    expectEnded(r, 'end', bin)
  })

  it('a warmed linter that is never used does not keep the process running, and ends with it', () => {
    if (!need('php')) return
    const bin = phpShim('pids')
    const r = command(bin, WARM_UNUSED)
    expectEnded(r, 'end', bin)
  })
})
