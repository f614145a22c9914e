import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { snapshot } from '../tree.js'
import { at, cliIn as cli, NEW, OLD, SECRET, savedHash, tree } from './kit.js'

// `cutover apply PLAN --expect sha256:HEX`: a review approved by its hash is bound to the bytes
// that apply runs; anything else is refused before a lock is taken or a file written.
async function planned(): Promise<{ dir: string; hash: string }> {
  const dir = tree()
  const r = await cli(dir, ['plan', '--root', 'root', '--out', 'plan.json'])
  expect(r.err).toBe('')
  expect(r.code).toBe(0)
  return { dir, hash: savedHash(r.out) }
}

const app = (dir: string) => readFileSync(at(dir, 'root/etc/app.conf'), 'utf8')

describe('apply PLAN --expect', () => {
  it('applies the plan whose file has the hash plan printed (hex in either case)', async () => {
    for (const shown of [(h: string) => h, (h: string) => `sha256:${h.slice(7).toUpperCase()}`]) {
      const { dir, hash } = await planned()
      const r = await cli(dir, ['apply', 'plan.json', '--expect', shown(hash)])
      expect(r.err).toBe('')
      expect(r.code).toBe(0)
      expect(r.out).toMatch(/^Applied 2 file\(s\) in transaction /)
      expect(app(dir)).toBe(`# the app\ndb = ${NEW}\n`)
      expect(readFileSync(at(dir, 'root/var/www/app/config.php'), 'utf8')).toContain(
        `'DB_PASSWORD', '${SECRET}'`,
      )
    }
  })

  it('refuses another hash: exit 1 naming both, nothing written, no state directory or lock made', async () => {
    const { dir, hash } = await planned()
    const before = snapshot(dir)
    const wrong = `sha256:${'0'.repeat(64)}`
    const r = await cli(dir, ['apply', 'plan.json', '--expect', wrong])
    expect(r.code).toBe(1)
    expect(r.out).toBe('')
    expect(r.err).toBe(
      `cutover: plan.json is ${hash}, not ${wrong} that --expect names: nothing was applied\n`,
    )
    // the whole directory as it was: the targets, the plan, and no var/lib/cutover (journal, lock)
    expect(snapshot(dir)).toEqual(before)
    expect(app(dir)).toBe(`# the app\ndb = ${OLD}\n`)
  })

  it('binds bytes, not meaning: the same document written otherwise is refused', async () => {
    const { dir, hash } = await planned()
    const doc: unknown = JSON.parse(readFileSync(at(dir, 'plan.json'), 'utf8'))
    writeFileSync(at(dir, 'plan.json'), JSON.stringify(doc), { mode: 0o600 })
    const before = snapshot(dir)
    const r = await cli(dir, ['apply', 'plan.json', '--expect', hash])
    expect(r.code).toBe(1)
    expect(r.err).toContain(`that --expect names: nothing was applied`)
    expect(r.err).toContain(`not ${hash}`)
    expect(snapshot(dir)).toEqual(before)
  })

  it('a malformed value is a usage error, before the plan is even read', async () => {
    const { dir } = await planned()
    const before = snapshot(dir)
    for (const v of [
      'abc',
      'sha256:abc',
      `sha256:${'a'.repeat(63)}`,
      `sha256:${'a'.repeat(65)}`,
      `sha1:${'a'.repeat(64)}`,
      `${'a'.repeat(64)}`,
      `sha256:${'g'.repeat(64)}`,
      '',
    ]) {
      // the plan named does not exist: the value is refused first
      const r = await cli(dir, ['apply', 'nowhere.json', '--expect', v])
      expect(r.code, v).toBe(1)
      expect(r.err, v).toBe(
        `cutover: --expect takes the plan's hash as cutover plan prints it, sha256: and 64 hex digits, got "${v}"\n`,
      )
    }
    expect(snapshot(dir)).toEqual(before)
  })

  it('without a plan it is a usage error: --expect binds a saved plan, and nothing is planned', async () => {
    const { dir, hash } = await planned()
    const before = snapshot(dir)
    const r = await cli(dir, ['apply', '--root', 'root', '--yes', '--expect', hash])
    expect(r.code).toBe(1)
    expect(r.out).toBe('')
    expect(r.err).toMatch(/^cutover: --expect binds a saved plan/)
    expect(snapshot(dir)).toEqual(before)
  })

  it('a plan file that is not there is refused as before', async () => {
    const { dir, hash } = await planned()
    const r = await cli(dir, ['apply', 'gone.json', '--expect', hash])
    expect(r.code).toBe(1)
    expect(r.err).toContain('cannot read the plan')
  })
})
