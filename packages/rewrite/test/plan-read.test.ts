import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { structuredPatch } from 'diff'
import { describe, expect, it } from 'vitest'
import {
  createEngine,
  iniStep,
  phpStep,
  textStep,
  unifiedDiff,
  type PlanEvent,
} from '../src/index.js'
import { Prefilter } from '../src/match/prefilter.js'

describe('Prefilter', () => {
  it('reports each group that has a needle, prefixes included, as UTF-8 and as latin1 bytes', () => {
    const p = new Prefilter([['10.0.10.13'], ['10.0.10.130'], ['café'], ['absent'], []])
    const scan = (s: Buffer) => p.scan(s)
    expect(scan(Buffer.from('host=10.0.10.130\n'))).toEqual([true, true, false, false, false])
    expect(scan(Buffer.from('host=10.0.10.13\n'))).toEqual([true, false, false, false, false])
    expect(scan(Buffer.from('au café', 'utf8'))).toEqual([false, false, true, false, false])
    expect(scan(Buffer.from('au café', 'latin1'))).toEqual([false, false, true, false, false])
    expect(scan(Buffer.from('10.0.10.1x café absen'))).toEqual([false, false, true, false, false])
    expect(new Prefilter([[''], []]).scan(Buffer.from('anything'))).toEqual([false, false])
  })
})

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
  const root = mkdtempSync(join(tmpdir(), 'cutover-plan-read-'))
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
    }
  })
})

describe('unifiedDiff of large texts', () => {
  /** The diff rendered from one whole structuredPatch, as unifiedDiff does for small texts. */
  function whole(before: string, after: string): string {
    const out = ['--- a/big', '+++ b/big']
    const range = (s: number, l: number) => (l === 0 ? `${s},0` : l === 1 ? `${s}` : `${s},${l}`)
    for (const h of structuredPatch('a', 'b', before, after, '', '', { context: 3 }).hunks) {
      out.push(
        `@@ -${range(h.oldStart, h.oldLines)} +${range(h.newStart, h.newLines)} @@`,
        ...h.lines,
      )
    }
    return out.join('\n') + '\n'
  }

  it('is computed window by window with the same hunks as a whole diff', () => {
    const lines = Array.from({ length: 12000 }, (_, i) => `row ${i} ${i % 5}`)
    const variants: string[][] = []
    const a = lines.map((l, i) => (i % 997 === 0 ? `${l} changed` : l))
    a.splice(5000, 0, 'inserted a', 'inserted b')
    a.splice(9000, 2)
    variants.push(
      a,
      [...a, 'tail'],
      a.slice(0, -1),
      [...a.slice(0, 6000), ...a.slice(6003)],
      ['head', ...a],
    )
    for (const after of variants) {
      for (const end of ['', '\n']) {
        const before = lines.join('\n') + '\n'
        expect(unifiedDiff('big', before, after.join('\n') + end)).toBe(
          whole(before, after.join('\n') + end),
        )
      }
    }
  })
})

describe('a directory swapped for a link after the targets were resolved', () => {
  it('is not read through: the plan is refused, naming the file and where the link led', async () => {
    const { realpathSync, renameSync } = await import('node:fs')
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'cutover-plan-swap-')))
    const root = join(base, 'root')
    for (const [p, text] of [
      ['root/a/x.conf', 'host 10.0.10.48\n'],
      ['root/b/y.conf', 'host 10.0.10.48\n'],
      ['outside/y.conf', 'OUTSIDE-ONLY 10.0.10.48\n'],
    ]) {
      mkdirSync(join(base, p!, '..'), { recursive: true })
      writeFileSync(join(base, p!), text!)
    }
    // planning the first file, the owner of b/ swaps it for a link out of the root
    const swapping = {
      ...textStep,
      plan: (
        file: Parameters<typeof textStep.plan>[0],
        o: Parameters<typeof textStep.plan>[1],
        ctx: Parameters<typeof textStep.plan>[2],
      ) => {
        if (file.path === 'a/x.conf') {
          renameSync(join(root, 'b'), join(root, 'b.orig'))
          symlinkSync(join(base, 'outside'), join(root, 'b'))
        }
        return textStep.plan(file, o, ctx)
      },
    }
    const engine = createEngine({ steps: [swapping] })
    const spec = engine.parseSpec(
      'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["*/*.conf"], addresses: new }\n',
      'cutover.yaml',
    )
    const err = await engine.plan(spec, { root, threads: 0 }).then(
      (p) => JSON.stringify(p.changes.map((c) => c.beforeText)),
      (e: Error & { code?: string }) => e,
    )
    expect(err).toMatchObject({ code: 'TARGET_MOVED' })
    expect((err as Error).message).toBe(
      `${join(root, 'b/y.conf')}: a directory on its path changed while it was read (it led to ${join(base, 'outside/y.conf')}); nothing outside the root is read: plan again`,
    )
  })
})

describe('a file planned again for a link to it', () => {
  it('is not read again through a directory swapped for a link since', async () => {
    const { realpathSync, renameSync } = await import('node:fs')
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'cutover-plan-swap-')))
    const root = join(base, 'root')
    for (const [p, text] of [
      ['root/a/app.conf', 'host 10.0.10.48 old-name\n'],
      ['outside/app.conf', 'OUTSIDE-ONLY 10.0.10.48 old-name\n'],
    ]) {
      mkdirSync(join(base, p!, '..'), { recursive: true })
      writeFileSync(join(base, p!), text!)
    }
    mkdirSync(join(root, 'z'))
    symlinkSync('../a/app.conf', join(root, 'z/link.conf'))
    // the link and its file have different steps: the file is read again with both, after every other read
    const swapping = {
      ...textStep,
      plan: (
        file: Parameters<typeof textStep.plan>[0],
        o: Parameters<typeof textStep.plan>[1],
        ctx: Parameters<typeof textStep.plan>[2],
      ) => {
        if (file.path === 'z/link.conf') {
          renameSync(join(root, 'a'), join(root, 'a.orig'))
          symlinkSync(join(base, 'outside'), join(root, 'a'))
        }
        return textStep.plan(file, o, ctx)
      },
    }
    const engine = createEngine({ steps: [swapping] })
    const spec = engine.parseSpec(
      'version: 1\nhosts:\n  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }\nsteps:\n  - text: { files: ["a/*.conf"], addresses: new }\n  - text: { files: ["z/*.conf"], replace: { old-name: new-name } }\n',
      'cutover.yaml',
    )
    const err = await engine.plan(spec, { root, threads: 0 }).then(
      (p) => JSON.stringify(p.changes.map((c) => c.beforeText)),
      (e: Error & { code?: string }) => e,
    )
    expect(err).toMatchObject({ code: 'TARGET_MOVED' })
    expect((err as Error).message).toContain(`(it led to ${join(base, 'outside/app.conf')})`)
  })
})
