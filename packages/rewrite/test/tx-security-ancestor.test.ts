import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'
import { commitFiles, listTransactions, recover, sha256, type FaultHook } from '../src/index.js'

const at =
  (point: string, fn: () => void): FaultHook =>
  (p) => {
    if (p === point) fn()
  }

/**
 * Two targets in `root/www/site/conf`; `escape()` moves `www/site` out of the root (into another
 * directory) and puts a link to where it went in its place: the targets' directory is the very
 * same inode, reached through the link, and no longer under the root.
 */
function moved() {
  const root = tempDir('cutover-anc-')
  const away = tempDir('cutover-anc-away-')
  const site = join(root, 'www', 'site')
  const conf = join(site, 'conf')
  mkdirSync(conf, { recursive: true })
  const files = [0, 1].map((i) => join(conf, `f${i}.conf`))
  files.forEach((f, i) => writeFileSync(f, `old ${i}\n`))
  const targets = files.map((f, i) => ({
    target: `www/site/conf/f${i}.conf`,
    path: f,
    before: sha256(`old ${i}\n`),
    content: Buffer.from(`new ${i}\n`),
    allowUserWritable: true,
  }))
  const outside = join(away, 'site', 'conf')
  const stateDir = join(root, 'state')
  const escape = () => {
    renameSync(site, join(away, 'site'))
    symlinkSync(join(away, 'site'), site)
  }
  return {
    stateDir,
    // the transaction of both targets, `escape` done at the fault point `point`; its error
    applyMovingAt: (point: string) =>
      commitFiles(targets, { stateDir, fault: at(point, escape) }).catch((e: unknown) => e),
    back: () => {
      unlinkSync(site)
      renameSync(join(away, 'site'), site)
    },
    // the texts of the two files in the directory now out of the root
    outsideTexts: () => [0, 1].map((i) => readFileSync(join(outside, `f${i}.conf`), 'utf8')),
    // the temps of a file there
    outsideTemps: (name: string) => readdirSync(outside).filter((n) => n.startsWith(`.${name}.`)),
    files,
  }
}

describe("a part above a target's directory moved out of the root during a phase, a link to it in its place", () => {
  it('between two renames: the second is refused, nothing is written in the directory where it went', async () => {
    const s = moved()
    const err = await s.applyMovingAt('renamed:1')
    expect(err).toMatchObject({ code: 'RECOVER_MOVED' })
    expect((err as Error).message).toMatch(
      /www\/site\/conf\/f1\.conf: its directory changed while applying \(.*site is now a symlink\)/,
    )
    // f0 was renamed while its directory was in the root; f1 was not renamed out of it
    expect(s.outsideTexts()).toEqual(['new 0\n', 'old 1\n'])
    expect((await listTransactions(s.stateDir)).map((t) => t.state)).toEqual(['prepared'])
    await expect(recover({ stateDir: s.stateDir })).rejects.toMatchObject({
      code: 'RECOVER_MOVED',
    })
    s.back()
    expect((await recover({ stateDir: s.stateDir })).transactions).toMatchObject([
      { was: 'prepared', now: 'rolled-back' },
    ])
    expect(s.files.map((f) => readFileSync(f, 'utf8'))).toEqual(['old 0\n', 'old 1\n'])
  })

  it('while staging: no temp file is created in the directory where it went', async () => {
    const s = moved()
    const err = await s.applyMovingAt('stage-write:2')
    expect(err).toMatchObject({
      code: 'TARGET_MOVED',
      message: expect.stringMatching(/site is now a symlink/),
    })
    // f0's temp was staged while its directory was in the root; f1's is not made out of it
    expect(s.outsideTexts()).toEqual(['old 0\n', 'old 1\n'])
    expect(s.outsideTemps('f0.conf')).toHaveLength(1)
    expect(s.outsideTemps('f1.conf')).toEqual([])
    expect((await listTransactions(s.stateDir)).map((t) => t.state)).toEqual(['aborted'])
  })
})
