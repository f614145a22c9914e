import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, statSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import {
  describeTimeout,
  runTool,
  toolEnv,
  toolTimeoutMs,
  type ToolRun,
  type Validator,
  type ValidatorItem,
} from '@cutover/rewrite'

/**
 * True when a `php` command is here: an executable file named `php` in a directory of the PATH
 * the tool runs with, looked up as the kernel's `execvp` does (an empty entry is the working
 * directory). No process is started: the linter's own `php` says whether it runs (one process
 * instead of a `php -v` probe before it; a `php` that is there but fails is a failed check,
 * not a skipped one). A `php` that hangs is there: linting fails on the timeout.
 */
export function hasPhp(): Promise<boolean> {
  return Promise.resolve(onPath('php', toolEnv().PATH ?? ''))
}

/** Whether `name` is an executable regular file in one of the `:`-separated directories of `path`. */
function onPath(name: string, path: string): boolean {
  for (const dir of path.split(':')) {
    const file = join(dir || '.', name)
    try {
      if (statSync(file).isFile()) {
        accessSync(file, constants.X_OK)
        return true
      }
    } catch {
      // not here (or not executable): the next directory
    }
  }
  return false
}

/** The message of a php that was killed for not answering. */
function timeoutMessage(ms: number): string {
  return `php -l: php did not answer within ${describeTimeout(ms)} and was stopped (CUTOVER_TOOL_TIMEOUT_MS sets the limit)`
}

const LINT_FLAGS = ['-d', 'display_errors=stderr', '-d', 'log_errors=0']

/** The command of `php -l` on one staged file. */
function lintArgv(stagedPath: string): string[] {
  return ['php', ...LINT_FLAGS, '-l', stagedPath]
}

/** `php -l`'s verdict: PHP's message naming `target` instead of the staged path, or undefined when the file is fine. */
function lintVerdict(r: ToolRun, target: string, stagedPath: string): string | undefined {
  if (r.code === 0) return undefined
  if (r.timedOut) return timeoutMessage(toolTimeoutMs())
  // here, found on the PATH (hasPhp) but the kernel could not run it: its `#!` interpreter or
  // ELF loader is missing; without this the user saw only "exit code -1" (a machine's shell
  // says "not found" itself, exit 127)
  if (r.missing && r.code === -1)
    return 'php -l: php is on the PATH but could not be started (ENOENT)'
  // the staged path (a target's name may hold a newline) is named by a mark that holds none
  // while the lines are split, so that it is replaced whole, as the batch's messages are
  const text = `${r.stdout}${r.stderr}`
  let mark = '\0'
  while (text.includes(mark)) mark += '\0'
  const lines = text
    .split(stagedPath)
    .join(mark)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('Errors parsing'))
  return `php -l: ${lines.join('; ').split(mark).join(target) || `exit code ${r.code}`}`
}

/** `php -l` on one file, its message naming `target` instead of the staged path. */
async function lintOne(stagedPath: string, target: string): Promise<string | undefined> {
  const [cmd, ...args] = lintArgv(stagedPath)
  return lintVerdict(await runTool(cmd!, args), target, stagedPath)
}

/*
 * The batch driver: compiles each file named on stdin without running it, with OPcache's
 * `opcache_compile_file`, which goes through the same scanner, parser and compiler as `php -l`
 * and reports compile errors ("Cannot re-assign $this", "Cannot redeclare f()", …) without ending
 * the process. The one difference found: OPcache delays the binding of classes, so `php -l`'s
 * compile-time checks of a class against its parent (`extends Closure`, a final class) do not
 * happen; a file declaring a class, interface, trait or enum is answered `X` and linted by `php -l`
 * itself. It declares no function or class of its own (a file declaring the same name would be
 * refused). Files come in batches, each path followed by a NUL and the batch by one more NUL; per
 * file (`N` counting from 0 in its batch) it prints `N B` before compiling, then `N K` (valid),
 * `N E <base64 message>` or `N X` (ask `php -l`), so a crash names the file it stopped at, and
 * `END` after the batch; it ends at the end of its stdin. A path given again is compiled again
 * (OPcache, which does not look at the file's time here, would answer from its cache).
 */
const DRIVER = String.raw`
if (!function_exists('opcache_compile_file') || !ini_get('opcache.enable_cli')) exit(3);
$kinds = [T_CLASS, T_INTERFACE, T_TRAIT];
if (defined('T_ENUM')) $kinds[] = constant('T_ENUM');
$seen = [];
$n = 0;
while (($f = stream_get_line(STDIN, 1048576, "\0")) !== false) {
  if ($f === '') { echo "END\n"; fflush(STDOUT); $n = 0; continue; }
  $i = $n++;
  echo "$i B\n"; fflush(STDOUT);
  $code = @file_get_contents($f);
  $ask = $code === false || (isset($seen[$f]) && !opcache_invalidate($f, true));
  $seen[$f] = true;
  $prev = null;
  foreach ($ask ? [] : token_get_all($code) as $t) {
    if (!is_array($t)) { $prev = $t; continue; }
    if ($t[0] === T_WHITESPACE || $t[0] === T_COMMENT || $t[0] === T_DOC_COMMENT) continue;
    if (in_array($t[0], $kinds, true) && !(is_array($prev) && $prev[0] === T_DOUBLE_COLON)) { $ask = true; break; }
    $prev = $t;
  }
  if ($ask) { echo "$i X\n"; continue; }
  error_clear_last();
  try {
    $ok = opcache_compile_file($f);
  } catch (ParseError $e) {
    echo "$i E ", base64_encode("Parse error: {$e->getMessage()} in $f on line {$e->getLine()}"), "\n";
    continue;
  } catch (Throwable $e) {
    echo "$i X\n";
    continue;
  }
  $last = error_get_last();
  if ($ok) echo "$i K\n";
  elseif ($last !== null && $last['type'] === E_COMPILE_ERROR) echo "$i E ", base64_encode("Fatal error: {$last['message']} in {$last['file']} on line {$last['line']}"), "\n";
  else echo "$i X\n";
}
`

const DRIVER_FLAGS = [
  '-d',
  'opcache.enable=1',
  '-d',
  'opcache.enable_cli=1',
  '-d',
  'opcache.file_update_protection=0',
  '-d',
  'opcache.validate_timestamps=0',
  '-d',
  'opcache.optimization_level=0',
  '-d',
  'opcache.jit=disable',
  '-d',
  'opcache.file_cache=',
  '-d',
  'opcache.max_accelerated_files=100000',
  '-d',
  'opcache.memory_consumption=256',
  '-d',
  'display_errors=0',
  '-d',
  'log_errors=0',
]

type Verdict = { kind: 'ok' } | { kind: 'error'; message: string } | { kind: 'ask' }

/**
 * How many files one driver compiles before a new one takes over: OPcache keeps each compiled
 * file in its shared memory until the process ends (`opcache.max_accelerated_files` above).
 */
const FILES_PER_DRIVER = 50_000

/** A started driver: its process and what it printed of its current batch. */
interface Driver {
  child: ChildProcess
  /** The PATH it was started with: a spare is used only under the same. */
  path: string
  out: string
  /** How many files it was given, in all its batches. */
  files: number
  /** Called on each chunk of output (re-arms the timeout while the driver is in use). */
  onData?: () => void
  /** Its exit code once it has ended (-1 when it could not start). */
  done: Promise<number | null>
}

/** Starts the driver; it waits for the list of files on its stdin. */
function startDriver(): Driver {
  const env = toolEnv()
  const child = spawn('php', [...DRIVER_FLAGS, '-r', DRIVER], {
    stdio: ['pipe', 'pipe', 'ignore'],
    env,
  })
  const d: Driver = { child, path: env.PATH ?? '', out: '', files: 0, done: Promise.resolve(null) }
  child.stdout!.setEncoding('latin1')
  child.stdout!.on('data', (chunk: string) => {
    d.out += chunk
    d.onData?.()
  })
  d.done = new Promise((resolve) => {
    child.on('error', () => resolve(-1))
    child.on('close', (code) => resolve(code))
  })
  child.stdin!.on('error', () => {})
  return d
}

/**
 * A driver waiting for its next batch: started ahead of its first by {@link warmPhpLint}, or
 * kept after a batch (a plan's lint, then the apply's of the staged files: one PHP start).
 */
let spare: Driver | undefined

/** Keeps a process alive for `d` (a spare does not: it must not hold the command open). */
function hold(d: Driver, on: boolean): void {
  for (const h of [d.child, d.child.stdin, d.child.stdout] as Array<{
    ref?(): void
    unref?(): void
  } | null>)
    if (on) h?.ref?.()
    else h?.unref?.()
}

/** Whether `d` is running, under the PATH the tools run with now. */
function usable(d: Driver): boolean {
  return d.path === (toolEnv().PATH ?? '') && d.child.exitCode === null && !d.child.killed
}

/** How long a linter may take to end once its stdin is closed before it is killed. */
const END_WAIT_MS = 2000

/**
 * Ends `d`: closes its stdin and holds the command open until it has ended (a process left to end
 * after the command would stay a zombie where nothing reaps orphans), killing it after
 * {@link END_WAIT_MS} (a `php` that never reads its stdin).
 */
function retire(d: Driver): void {
  hold(d, true)
  d.child.stdin!.end()
  const kill = setTimeout(() => d.child.kill('SIGKILL'), END_WAIT_MS)
  void d.done.then(() => clearTimeout(kill))
}

/**
 * Makes `d` the spare: it no longer holds the command open. When nothing else is left to do, it
 * is retired (the command waits for it to end); on `process.exit` it is killed.
 */
function keep(d: Driver): void {
  spare = d
  hold(d, false)
  if (!exitHooks) {
    exitHooks = true
    process.on('beforeExit', () => {
      const last = spare
      spare = undefined
      if (last) retire(last)
    })
    process.on('exit', () => spare?.child.kill('SIGKILL'))
  }
}
let exitHooks = false

/**
 * Starts the batch linter's PHP process now, when a plan is about to lint PHP files, so that
 * PHP's start overlaps the plan's reading and planning instead of coming after them; the next
 * batch (of the same PATH) uses it. It waits for its files on stdin and does not keep the
 * command running: a spare never used is killed when the process exits (a real `php` would
 * also end at the end of its stdin). Nothing is started without a `php` on the PATH.
 */
export function warmPhpLint(): void {
  if (spare && usable(spare)) return
  if (!onPath('php', toolEnv().PATH ?? '')) return
  spare?.child.kill('SIGKILL')
  keep(startDriver())
}

/** The spare driver if it suits now (same PATH, still running, room for `files`), else a new one. */
function takeDriver(files: number): Driver {
  const d = spare
  spare = undefined
  if (d && usable(d) && d.files + files <= FILES_PER_DRIVER) {
    hold(d, true)
    return d
  }
  d?.child.kill('SIGKILL')
  return startDriver()
}

/** A driver whose batch has ended: the spare if there is none, else retired. */
function release(d: Driver): void {
  d.onData = undefined
  if (!spare && usable(d) && d.files < FILES_PER_DRIVER) return keep(d)
  retire(d)
}

/** How often the event loop's availability is sampled while a driver works (see {@link runDriver}). */
const TICK_MS = 100

/**
 * Runs the driver over `paths`; a path it did not answer is missing from the result. The driver
 * is killed when it stays silent for the tool timeout (it prints a line before and after each
 * file, so a long batch that progresses is not stopped): `timedOut` says so. The timeout counts
 * PHP's time only: while this thread does not run the event loop (the plan's `finish` beside
 * the lint, a large diff), the driver's answers are not read nor the rest of its batch written,
 * so that time (how late a {@link TICK_MS} tick comes) is given back before it is stopped. A
 * driver that answered the whole batch is kept for the next one.
 */
async function runDriver(paths: readonly string[]): Promise<{
  verdicts: Map<number, Verdict>
  begun: number[]
  timedOut: boolean
}> {
  const d = takeDriver(paths.length)
  d.files += paths.length
  d.out = ''
  let timedOut = false
  const ms = toolTimeoutMs()
  let timer: NodeJS.Timeout | undefined
  // how long the event loop was held since the timer was set, up to the last tick
  let held = 0
  let tick = performance.now()
  const lateness = () => Math.max(0, performance.now() - tick - TICK_MS)
  const ticks = setInterval(() => {
    held += lateness()
    tick = performance.now()
  }, TICK_MS)
  ticks.unref()
  const arm = (delay = ms) => {
    held = 0
    tick = performance.now()
    clearTimeout(timer)
    timer = setTimeout(() => {
      const given = held + lateness()
      if (given >= TICK_MS) return arm(given)
      timedOut = true
      d.child.kill('SIGKILL')
    }, delay)
  }
  arm()
  // true when the driver printed the batch's end, false when it ended (or was killed) before
  const answered = await new Promise<boolean>((resolve) => {
    d.onData = () => {
      arm()
      if (d.out === 'END\n' || d.out.endsWith('\nEND\n')) resolve(true)
    }
    void d.done.then(() => resolve(false))
    d.child.stdin!.write(`${paths.join('\0')}\0\0`)
  })
  clearTimeout(timer)
  clearInterval(ticks)
  if (answered) release(d)
  else d.onData = undefined
  return { ...parseDriver(d.out), timedOut }
}

/** What the driver printed: the files it began (in order) and its verdicts, by file number. */
function parseDriver(out: string): { verdicts: Map<number, Verdict>; begun: number[] } {
  const verdicts = new Map<number, Verdict>()
  const begun: number[] = []
  for (const line of out.split('\n')) {
    const [n, kind, b64] = line.split(' ')
    const i = Number(n)
    if (!line || !Number.isInteger(i)) continue
    if (kind === 'B') begun.push(i)
    else if (kind === 'K') verdicts.set(i, { kind: 'ok' })
    else if (kind === 'X') verdicts.set(i, { kind: 'ask' })
    else if (kind === 'E')
      verdicts.set(i, {
        kind: 'error',
        message: Buffer.from(b64 ?? '', 'base64').toString('utf8'),
      })
  }
  return { verdicts, begun }
}

/**
 * Lints `items` in as few PHP processes as it can: the driver answers most files; the files it
 * defers, and the one it was compiling if it died, go to `php -l` one by one; the files after a
 * crash go to a new driver. Without OPcache every file goes to `php -l`. A driver that hangs
 * is killed: the file it was compiling fails with a timeout (all of them when it hung before
 * its first file: the same `php` would hang again on each).
 */
async function lintChunk(items: readonly ValidatorItem[]): Promise<(string | undefined)[]> {
  const out: (string | undefined)[] = new Array(items.length)
  let pending = items.map((_, i) => i)
  while (pending.length) {
    const ms = toolTimeoutMs()
    const { verdicts, begun, timedOut } = await runDriver(pending.map((i) => items[i]!.stagedPath))
    const single: number[] = []
    const rest: number[] = []
    const started = new Set(begun)
    const stuck = timedOut ? begun[begun.length - 1] : undefined
    pending.forEach((i, n) => {
      const v = verdicts.get(n)
      if (v?.kind === 'ok') out[i] = undefined
      else if (v?.kind === 'error')
        out[i] = `php -l: ${v.message.split(items[i]!.stagedPath).join(items[i]!.target)}`
      else if (timedOut && (started.size === 0 || n === stuck)) out[i] = timeoutMessage(ms)
      else if (v?.kind === 'ask' || started.has(n) || started.size === 0) single.push(i)
      else rest.push(i)
    })
    for (const i of single) out[i] = await lintOne(items[i]!.stagedPath, items[i]!.target)
    pending = rest
  }
  return out
}

/**
 * `php-lint`: runs `php -l` on a staged PHP file; resolves to PHP's message (with the staged
 * path replaced by the target's) when the file does not parse or compile, undefined when it
 * does. Many files are checked by one PHP process per core (see `lintChunk`), with the same
 * verdicts as `php -l`. As a `tool`, `php -l` runs on the machine a file is staged on.
 */
export const phpLint: Validator = {
  name: 'php-lint',
  available: hasPhp,
  warm: warmPhpLint,
  plan: true,
  run: lintOne,
  async runBatch(items) {
    const per = Math.max(64, Math.ceil(items.length / Math.max(1, availableParallelism())))
    const chunks: ValidatorItem[][] = []
    for (let i = 0; i < items.length; i += per) chunks.push(items.slice(i, i + per))
    return (await Promise.all(chunks.map(lintChunk))).flat()
  },
  column: parserColumn,
  tool: {
    argv: lintArgv,
    verdict: lintVerdict,
    // on another machine, the driver in one PHP process there; the files it defers go to php -l
    batch: {
      argv: ['php', ...DRIVER_FLAGS, '-r', DRIVER],
      input: (paths) => Buffer.from(`${paths.join('\0')}\0\0`, 'utf8'),
      verdicts: (run, items) => {
        const out: Array<string | undefined | null> = items.map(() => null)
        for (const [n, v] of parseDriver(run.stdout).verdicts) {
          const it = items[n]
          if (!it) continue
          if (v.kind === 'ok') out[n] = undefined
          else if (v.kind === 'error')
            out[n] = `php -l: ${v.message.split(it.stagedPath).join(it.target)}`
        }
        return out
      },
    },
  },
}

/** The 0-based column of php-parser's syntax error when it is on `line` (`php -l` names a line only). */
async function parserColumn(text: string, line: number): Promise<number | undefined> {
  try {
    const m = await import('php-parser')
    const Engine = (
      m as unknown as { default: new (o: object) => { parseCode(s: string): unknown } }
    ).default
    new Engine({
      parser: { php8: true, suppressErrors: false },
      lexer: { short_tags: false },
    }).parseCode(text)
  } catch (e) {
    const err = e as { lineNumber?: number; columnNumber?: number }
    if (err.lineNumber === line && typeof err.columnNumber === 'number') return err.columnNumber
  }
  return undefined
}
