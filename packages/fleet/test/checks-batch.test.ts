import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import {
  commitFiles,
  sha256,
  type FaultHook,
  type StagedCheck,
  type StagedToolBatch,
  type Validator,
} from '@cutover/rewrite'
import { afterEach, describe, expect, it } from 'vitest'
import { remoteChecks } from '../src/checks.js'
import { localMachine } from '../src/local-machine.js'
import { tempDir } from '@cutover/test-kit/temp'

/*
 * A validator's tool with a batch command of its own (php-lint's driver) checks the files staged
 * on a machine in one process there; the files it does not answer go to the tool's own command,
 * file by file. The machine here is a local directory: its commands are this machine's `sh`.
 */

let dir: string
afterEach(() => rmSync(dir, { recursive: true, force: true }))

/**
 * A check of "bad" in a file: by `argv` (a run noted in `single.log`), or by a batch command that
 * answers `N ok` or `N bad` per path on its stdin but leaves a file holding "ask" unanswered.
 */
function validator(batch: Partial<StagedToolBatch> = {}): Validator {
  const log = join(dir, 'single.log')
  return {
    name: 'no-bad',
    run: () => Promise.reject(new Error('ran on the controller')),
    tool: {
      argv: (p) => ['sh', '-c', `echo "$1" >> '${log}'; ! grep -q bad "$1"`, 'sh', p],
      verdict: (r, target) => (r.code === 0 ? undefined : `${target}: bad`),
      batch: {
        argv: [
          'sh',
          '-c',
          `tr '\\0' '\\n' | { n=0; while read -r f; do if grep -q ask "$f"; then :; elif grep -q bad "$f"; then echo "$n bad"; else echo "$n ok"; fi; n=$((n+1)); done; }`,
        ],
        input: (paths) => Buffer.from(paths.map((p) => p + '\0').join('')),
        verdicts: (run, items) => {
          const out: Array<string | undefined | null> = items.map(() => null)
          for (const line of run.stdout.split('\n')) {
            const [n, v] = line.split(' ')
            const it = items[Number(n)]
            if (it && v === 'ok') out[Number(n)] = undefined
            if (it && v === 'bad') out[Number(n)] = `${it.target}: bad`
          }
          return out
        },
        ...batch,
      },
    },
  }
}

function staged(texts: readonly string[]) {
  return texts.map((text, i) => {
    const stagedPath = join(dir, `.f${i}.tmp`)
    writeFileSync(stagedPath, text)
    return { stagedPath, target: `etc/f${i}` }
  })
}

const singles = () => {
  try {
    return readFileSync(join(dir, 'single.log'), 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

const checkOf = (v: Validator): StagedCheck => {
  const machine = localMachine({ name: 'm', root: '/' })
  const t = remoteChecks(machine, {
    target: 'x',
    path: '/x',
    before: 'absent',
    content: Buffer.alloc(0),
    validators: [v],
  })
  return t.validators![0]!
}

describe('a tool with a batch command of its own, on a machine', () => {
  it("answers the files in one command; only those it leaves run the tool's own command", async () => {
    dir = tempDir('cutover-batch-')
    const items = staged(['fine\n', 'bad\n', 'ask fine\n', 'fine\n', 'ask bad\n'])
    const got = await checkOf(validator()).runBatch!(items)
    expect(got).toEqual([undefined, 'etc/f1: bad', undefined, undefined, 'etc/f4: bad'])
    expect(singles()).toEqual([items[2]!.stagedPath, items[4]!.stagedPath])
  })

  it('fails closed: an answer that is not one verdict per file checks every file with its own command', async () => {
    dir = tempDir('cutover-batch-')
    const items = staged(['fine\n', 'bad\n', 'fine\n'])
    const short = validator({ verdicts: () => [undefined] })
    expect(await checkOf(short).runBatch!(items)).toEqual([undefined, 'etc/f1: bad', undefined])
    expect(singles()).toEqual(items.map((it) => it.stagedPath))
  })

  it("fails closed: a batch command that hangs past the tool timeout is killed and every file runs the tool's own command", async () => {
    dir = tempDir('cutover-batch-')
    const items = staged(['fine\n', 'bad\n', 'fine\n'])
    const hangs = validator({ argv: ['sleep', '60'] })
    const was = process.env.CUTOVER_TOOL_TIMEOUT_MS
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '3000'
    try {
      expect(await checkOf(hangs).runBatch!(items)).toEqual([undefined, 'etc/f1: bad', undefined])
    } finally {
      if (was === undefined) delete process.env.CUTOVER_TOOL_TIMEOUT_MS
      else process.env.CUTOVER_TOOL_TIMEOUT_MS = was
    }
    expect(singles()).toEqual(items.map((it) => it.stagedPath))
  })
})

describe('the checks made for a machine', () => {
  // an apply runs checks marked inProcess many at once; a machine's check (a command there, or a
  // check of a private local copy) is not one: it runs one per core, whatever it wraps
  it('are not marked inProcess, and an apply runs them one per core', async () => {
    dir = tempDir('cutover-checks-')
    const scratch = validator()
    scratch.tool = { ...scratch.tool!, scratch: true }
    expect(checkOf({ ...scratch, inProcess: true }).inProcess).toBeUndefined()
    const cores = Math.max(2, availableParallelism())
    let now = 0
    let most = 0
    // each check waits until more than one per core run at once, or the last file is staged
    let open!: () => void
    const gate = new Promise<void>((r) => (open = r))
    const counted: Validator = {
      name: 'counted',
      inProcess: true,
      run: async () => {
        most = Math.max(most, ++now)
        if (now > cores) open()
        await gate
        now--
        return undefined
      },
    }
    const machine = localMachine({ name: 'm', root: '/' })
    const n = 24
    const targets = Array.from({ length: n }, (_, i) => {
      const path = join(dir, `f${i}.conf`)
      writeFileSync(path, `old ${i}\n`)
      return remoteChecks(machine, {
        target: `f${i}.conf`,
        path,
        before: sha256(`old ${i}\n`),
        content: Buffer.from(`new ${i}\n`),
        validators: [counted],
      })
    })
    const fault: FaultHook = (p) => {
      if (p === `staged:${n}`) open()
    }
    await commitFiles(targets, { stateDir: join(dir, 'state'), fault })
    expect(most).toBeGreaterThan(0)
    expect(most).toBeLessThanOrEqual(cores)
    expect(readFileSync(join(dir, 'f3.conf'), 'utf8')).toBe('new 3\n')
  })
})
