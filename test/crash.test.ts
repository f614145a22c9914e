import { spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'

const bin = resolve(import.meta.dirname, '../packages/cli/dist/bin.js')
const DIRS = 30
const PER_DIR = 50 // 1,500 files

function cutover(args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
  })
  return { code: r.status, signal: r.signal, out: r.stdout, err: r.stderr }
}

const before = (d: number, i: number) => `# file ${d}/${i}\nhost = 10.0.10.48\nport = 5432\n`
const after = (d: number, i: number) =>
  `# file ${d}/${i}\nhost = finance.example.net\nport = 5432\n`

function writeTree(root: string): void {
  rmSync(root, { recursive: true, force: true })
  for (let d = 0; d < DIRS; d++) {
    mkdirSync(join(root, 'etc', `d${d}`), { recursive: true })
    for (let i = 0; i < PER_DIR; i++)
      writeFileSync(join(root, 'etc', `d${d}`, `f${i}.conf`), before(d, i))
  }
}

/** 'before', 'after', or a description of the mix; and every stray temp file. */
function inspect(root: string): { state: string; strays: string[] } {
  let nBefore = 0
  let nAfter = 0
  const other: string[] = []
  const strays: string[] = []
  for (let d = 0; d < DIRS; d++) {
    const dir = join(root, 'etc', `d${d}`)
    for (const name of readdirSync(dir))
      if (!/^f\d+\.conf$/.test(name)) strays.push(join(dir, name))
    for (let i = 0; i < PER_DIR; i++) {
      const text = readFileSync(join(dir, `f${i}.conf`), 'utf8')
      if (text === before(d, i)) nBefore++
      else if (text === after(d, i)) nAfter++
      else other.push(`d${d}/f${i}.conf: ${JSON.stringify(text.slice(0, 40))}`)
    }
  }
  const state = other.length
    ? `corrupt: ${other.slice(0, 3).join(', ')}`
    : nAfter === 0
      ? 'before'
      : nBefore === 0
        ? 'after'
        : `mixed: ${nBefore} before, ${nAfter} after`
  return { state, strays }
}

describe('apply of 1,500 files killed with SIGKILL', () => {
  const dir = tempDir('cutover-crash-')
  const root = join(dir, 'root')
  writeFileSync(
    join(dir, 'cutover.yaml'),
    'version: 1\nhosts:\n  finance.example.net: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["etc/**/*.conf"], addresses: names }\n',
  )
  writeTree(root)
  const planned = cutover(['plan', '--root', 'root', '--out', 'plan.json', '--quiet'], dir)

  it('saves the plan of 1,500 changes', () => {
    expect(planned.err).toBe('')
    expect(JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')).changes).toHaveLength(
      DIRS * PER_DIR,
    )
  })

  const points = [
    'staged:1',
    'staged:1000',
    'validated',
    'backed-up:750',
    'backed-up:1500',
    'backups-synced',
    'prepared',
    'renamed:1',
    'renamed:750',
    'before-commit',
  ]
  it.each(points)(
    'killed at %s: recover leaves all-before or all-after, no stray file',
    (point) => {
      writeTree(root)
      const killed = cutover(['apply', 'plan.json', '--quiet'], dir, {
        CUTOVER_FAULT_INJECT: point,
      })
      expect(killed.signal).toBe('SIGKILL')
      const rec = cutover(['recover', '--root', 'root'], dir)
      expect(rec.code).toBe(0)
      expect(rec.out).toMatch(
        /^Transaction \S+: (staging|prepared) -> (aborted|rolled-back|committed) \(1500 file\(s\)\)\n$/,
      )
      const { state, strays } = inspect(root)
      expect(strays).toEqual([])
      expect(['before', 'after']).toContain(state)
      if (point === 'before-commit') expect(state).toBe('after')
      if (state === 'before') {
        const again = cutover(['apply', 'plan.json', '--quiet'], dir)
        expect(again.err).toBe('')
        expect(again.code).toBe(0)
        expect(inspect(root)).toEqual({ state: 'after', strays: [] })
      }
    },
  )

  it('killed from outside at a moment inside the run: the next apply recovers, then applies the plan', async () => {
    writeTree(root)
    const child = spawn(process.execPath, [bin, 'apply', 'plan.json', '--quiet'], { cwd: dir })
    // kill once the transaction has staged some files: its journal exists and temps appear
    await new Promise<void>((done) => {
      const poll = setInterval(() => {
        const tx = join(root, 'var/lib/cutover/tx')
        let started = false
        try {
          started =
            readdirSync(tx).length > 0 && readdirSync(join(root, 'etc', 'd10')).length > PER_DIR
        } catch {
          started = false
        }
        if (started) {
          clearInterval(poll)
          child.kill('SIGKILL')
          done()
        }
      }, 5)
    })
    await new Promise((r) => child.once('exit', r))
    const again = cutover(['apply', 'plan.json', '--quiet'], dir)
    expect(again.code).toBe(0)
    expect(again.err).toMatch(
      /recovered interrupted transaction \S+: (staging|prepared) -> (aborted|rolled-back)/,
    )
    expect(inspect(root)).toEqual({ state: 'after', strays: [] })
  })
})
