import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { execFileSync } from 'node:child_process'
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createEngine, textStep, type PlanEvent } from '@cutover/rewrite'
import { describe, expect, it } from 'vitest'
import { iniStep, phpStep } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

const SPEC = `version: 1
hosts:
  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }
  ldap.example.org: { old: 10.0.10.13, new: 10.0.10.14 }
scan:
  files: ["notes/**"]
steps:
  - php: { files: ["**/*.php"], addresses: names }
  - ini: { files: ["**/*.ini"], addresses: names }
  - text: { files: ["**/*.conf", "**/fifo"], addresses: names }
`

/** A tree of every kind of file planning meets: changed, untouched, near-misses, latin1, binary, links, a FIFO, scan-only notes. */
function tree(n: number): string {
  const root = tempDir('cutover-plan-read-')
  for (let i = 0; i < n; i++) {
    const dir = join(root, `vm${i % 7}`, i % 3 === 0 ? 'www' : 'etc')
    mkdirSync(dir, { recursive: true })
    const hot = i % 11 === 0
    const body = `line ${i}\n`.repeat(1 + (i % 40))
    // valid PHP (plan lints what it plans): the body lines are comments
    if (i % 3 === 0)
      writeFileSync(
        join(dir, `c${i}.php`),
        `<?php\n$h = '${hot ? '10.0.10.48' : 'localhost'}'; // ${i % 13 === 0 ? '10.0.10.480' : 'x'}\n${body.replace(/^/gm, '// ')}`,
      )
    else if (i % 3 === 1)
      writeFileSync(join(dir, `c${i}.ini`), `host = ${hot ? '10.0.10.13' : '10.0.10.130'}\n${body}`)
    else
      writeFileSync(
        join(dir, `c${i}.conf`),
        Buffer.concat([
          Buffer.from(`# caf\xe9 ${hot ? 'upstream 10.0.10.48:80;' : ''}\n${body}`, 'latin1'),
          Buffer.from(i % 17 === 0 ? [0, 1, 2] : []),
        ]),
      )
  }
  mkdirSync(join(root, 'notes'))
  writeFileSync(join(root, 'notes', 'a.txt'), 'old db 10.0.10.48\n')
  writeFileSync(join(root, 'notes', 'b.txt'), 'nothing\n')
  symlinkSync(join(root, 'vm0', 'www'), join(root, 'linked'))
  execFileSync('mkfifo', [join(root, 'vm1', 'etc', 'fifo')])
  return root
}

describe('planning with reader threads', () => {
  it('gives the same plan, file reasons and counts as reading on this thread', async () => {
    const root = tree(600)
    const engine = createEngine({ steps: [textStep, phpStep, iniStep] })
    const spec = engine.parseSpec(SPEC, 'cutover.yaml')
    const run = async (threads: number) => {
      const why: string[] = []
      const plan = await engine.plan(spec, {
        root,
        threads,
        onProgress: (e) => {
          if (e.type === 'file') why.push(`${e.target}: ${e.what}`)
        },
      })
      return { plan, why: why.sort() }
    }
    // node announces every worker thread it starts on this channel: the second run must use them
    let started = 0
    const count = () => void started++
    subscribe('worker_threads', count)
    const here = await run(0)
    expect(started).toBe(0)
    const there = await run(2)
    unsubscribe('worker_threads', count)
    expect(started).toBe(2)
    expect(here.plan.changes.length).toBeGreaterThan(50)
    expect(here.plan.leftovers.length).toBeGreaterThan(10)
    expect(here.why.some((w) => w.endsWith(': skipped: binary'))).toBe(true)
    expect(here.why.some((w) => w.endsWith(': skipped: holds nothing the steps look for'))).toBe(
      true,
    )
    expect(there.why).toEqual(here.why)
    expect(there.plan.stats).toEqual(here.plan.stats)
    expect(JSON.stringify(there.plan)).toBe(JSON.stringify(here.plan))
  })
})

describe('planner progress', () => {
  it('is typed events: each file as it is done, then the count that includes it', async () => {
    const root = tree(40)
    const engine = createEngine({ steps: [textStep, phpStep, iniStep] })
    const spec = engine.parseSpec(SPEC, 'cutover.yaml')
    for (const threads of [0, 2]) {
      const events: PlanEvent[] = []
      const plan = await engine.plan(spec, { root, threads, onProgress: (e) => events.push(e) })
      const files = events.filter((e) => e.type === 'file')
      const counts = events.filter((e) => e.type === 'read')
      expect(files.length).toBe(plan.stats.considered)
      expect(counts.length).toBe(files.length)
      events.forEach((e, i) => expect(e.type).toBe(i % 2 === 0 ? 'file' : 'read'))
      expect(counts.map((c) => c.considered)).toEqual(counts.map((_, i) => i + 1))
      expect(counts.at(-1)).toEqual({
        type: 'read',
        considered: plan.stats.considered,
        total: plan.stats.considered,
        changed: plan.changes.length,
      })
      const changed = files.filter((f) => f.what === 'changed').map((f) => f.target)
      expect(changed.sort()).toEqual(plan.changes.map((c) => c.target).sort())
      // a changed file's event names the validators of its change (the CLI starts those early)
      const validators = new Map(plan.changes.map((c) => [c.target, c.validators]))
      for (const f of files) expect(f.validators).toEqual(validators.get(f.target))
      expect(files.some((f) => f.validators?.includes('php-lint'))).toBe(true)
    }
  })
})
