import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { makeTree, snapshot } from '../tree.js'
import { fileHash } from './accept-kit.js'

/*
 * The acceptance of issue 21 for `apply PLAN --expect sha256:…`: an approval binds the bytes
 * that run. A plan whose hash is not the approved one writes nothing, takes no lock and makes no
 * state directory; the approved one applies. Through the built CLI, as a user runs it.
 */

const BIN = resolve(import.meta.dirname, '../../dist/bin.js')
const SPEC = [
  'version: 1',
  'hosts:',
  '  db.example.net: { old: 10.0.10.48, new: 10.0.10.49 }',
  'steps:',
  '  - text: { files: ["etc/*.conf"], addresses: new }',
  '',
].join('\n')

function cutover(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, CUTOVER_FAULT_INJECT: '' },
  })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

function planned() {
  const dir = makeTree(
    {
      'cutover.yaml': SPEC,
      'root/etc/app.conf': 'db = 10.0.10.48\n',
      'root/etc/backup.conf': 'host 10.0.10.48 # primary\n',
    },
    'cutover-review-expect-',
  )
  const plan = cutover(dir, 'plan', '--root', 'root', '--out', 'plan.json')
  expect(plan.code, plan.err).toBe(0)
  return dir
}

describe('apply PLAN --expect sha256:…', () => {
  it('with a wrong hash: exit 1, a message naming both hashes, every byte of the tree as it was, no state directory nor lock', () => {
    const dir = planned()
    const hash = fileHash(join(dir, 'plan.json'))
    // the hash of another plan: one planned again holds other salts or other bytes
    writeFileSync(join(dir, 'other.json'), `${readFileSync(join(dir, 'plan.json'), 'utf8')} `)
    const wrong = fileHash(join(dir, 'other.json'))
    expect(wrong).not.toBe(hash)
    const before = snapshot(dir)
    const r = cutover(dir, 'apply', 'plan.json', '--expect', wrong)
    expect(r.code).toBe(1)
    expect(r.err).toContain(`plan.json is ${hash}, not ${wrong}`)
    expect(r.err).toMatch(/nothing was applied/)
    expect(r.err).not.toMatch(/^\s+at /m)
    expect(r.out).toBe('')
    expect(snapshot(dir)).toEqual(before)
    expect(existsSync(join(dir, 'root/var/lib/cutover'))).toBe(false)
    expect(existsSync(join(dir, 'root/var'))).toBe(false)
    // the same plan in the same tree applies with its own hash: only the hash refused it
    const right = cutover(dir, 'apply', 'plan.json', '--expect', hash, '--quiet')
    expect(right.err).toBe('')
    expect(right.code).toBe(0)
    expect(readFileSync(join(dir, 'root/etc/app.conf'), 'utf8')).toBe('db = 10.0.10.49\n')
  })

  it('a plan edited after its review is refused by the hash the reviewers approved, even when the edit keeps it a valid plan', () => {
    const dir = planned()
    const approved = fileHash(join(dir, 'plan.json'))
    // someone points the plan at another address after the approval, and makes its hashes of
    // the new contents match: still a plan apply would run
    const doc = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as {
      changes: Array<{ target: string; after: string }>
    }
    expect(JSON.stringify(doc)).toContain('10.0.10.49')
    const edited = JSON.parse(JSON.stringify(doc).replaceAll('10.0.10.49', '10.0.10.66')) as {
      changes: Array<{ target: string; after: string }>
    }
    for (const c of edited.changes) {
      const now = readFileSync(join(dir, 'root', c.target), 'utf8')
      c.after = `sha256:${createHash('sha256').update(now.replaceAll('10.0.10.48', '10.0.10.66')).digest('hex')}`
    }
    writeFileSync(join(dir, 'plan.json'), `${JSON.stringify(edited, null, 2)}\n`)
    const changed = fileHash(join(dir, 'plan.json'))
    const before = snapshot(dir)
    const r = cutover(dir, 'apply', 'plan.json', '--expect', approved)
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      `plan.json is ${changed}, not ${approved} that --expect names: nothing was applied`,
    )
    expect(snapshot(dir)).toEqual(before)
    expect(existsSync(join(dir, 'root/var'))).toBe(false)
    // what the approval kept out: the edited plan is one apply runs when its own hash is given
    const run = cutover(dir, 'apply', 'plan.json', '--expect', changed, '--quiet')
    expect(run.err).toBe('')
    expect(run.code).toBe(0)
    expect(readFileSync(join(dir, 'root/etc/app.conf'), 'utf8')).toBe('db = 10.0.10.66\n')
  })

  it('the right hash applies exactly that plan; the saved line of plan gives the command', () => {
    const dir = planned()
    const plan = cutover(dir, 'plan', '--root', 'root', '--out', 'plan.json')
    expect(plan.code).toBe(0)
    const saved = fileHash(join(dir, 'plan.json'))
    // the terminal review names the hash of the bytes it saved, and how to apply exactly them
    const command = `cutover apply plan.json --expect ${saved}`
    expect(plan.out).toContain(
      `Plan saved to plan.json, ${saved} (apply exactly it with: ${command})`,
    )
    const r = cutover(dir, ...command.split(' ').slice(1), '--quiet')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(readFileSync(join(dir, 'root/etc/app.conf'), 'utf8')).toBe('db = 10.0.10.49\n')
    expect(readFileSync(join(dir, 'root/etc/backup.conf'), 'utf8')).toBe(
      'host 10.0.10.49 # primary\n',
    )
  })

  it('--json prints the document whose sha256sum is the hash --expect takes', () => {
    const dir = planned()
    const json = cutover(dir, 'plan', '--root', 'root', '--json')
    expect(json.code).toBe(0)
    writeFileSync(join(dir, 'piped.json'), json.out)
    const sum = spawnSync('sha256sum', ['piped.json'], { cwd: dir, encoding: 'utf8' })
    const hash = `sha256:${sum.stdout.split(' ')[0]}`
    const r = cutover(dir, 'apply', 'piped.json', '--expect', hash, '--quiet')
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(readFileSync(join(dir, 'root/etc/app.conf'), 'utf8')).toBe('db = 10.0.10.49\n')
  })
})
