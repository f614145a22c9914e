import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cutover, NEW, OLD } from './fleet-kit.js'
import { tempDir } from '@cutover/test-kit/temp'

const OLD_PASSWORD = 'Tulip-Kettle-42'

/**
 * Machine a's config has its password replaced by a secret; machine b's config holds the same
 * old password on a line beside one its own step changes (its diff shows that line as context).
 */
function fleet(): string {
  const dir = tempDir('cutover-fleet-hidden-')
  const a = join(dir, 'a')
  const b = join(dir, 'b')
  mkdirSync(join(a, 'var/www/app'), { recursive: true })
  mkdirSync(join(b, 'etc'), { recursive: true })
  writeFileSync(
    join(a, 'var/www/app/config.php'),
    `<?php\n$DB_HOST = '${OLD}';\n$DB_PASSWORD = '${OLD_PASSWORD}';\n`,
  )
  writeFileSync(join(b, 'etc/app.conf'), `db = ${OLD}\nlegacy_password_copy ${OLD_PASSWORD}\n`)
  const ctl = join(dir, 'ctl')
  mkdirSync(ctl)
  writeFileSync(
    join(ctl, 'cutover.yaml'),
    [
      'version: 1',
      'machines:',
      `  a: { root: ${a} }`,
      `  b: { root: ${b} }`,
      'hosts:',
      `  db.example.net: { old: ${OLD}, new: ${NEW} }`,
      'secrets:',
      '  DB: { env: APP_DB_PASSWORD }',
      'steps:',
      '  - php: { on: [a], files: [var/www/app/config.php], addresses: names, set: { DB_PASSWORD: { secret: DB } } }',
      '  - text: { on: [b], files: [etc/app.conf], addresses: new }',
      '',
    ].join('\n'),
  )
  return ctl
}

describe('a fleet hides an old value a secret replaces on one machine in every machine', () => {
  it('in the review, the JSON plan and the saved plan', async () => {
    const ctl = fleet()
    const env = { APP_DB_PASSWORD: 'new-secret-value' }
    const review = await cutover(['plan'], ctl, env)
    expect(review.code).toBe(0)
    // b's diff shows the line as context, with the value masked
    expect(review.out).toContain('b:etc/app.conf')
    expect(review.out).toContain(' legacy_password_copy (sensitive)')
    const json = await cutover(['plan', '--json'], ctl, env)
    expect(json.code).toBe(0)
    const saved = await cutover(['plan', '--out', 'plan.json', '--quiet'], ctl, env)
    expect(saved.code).toBe(0)
    for (const text of [
      review.out,
      review.err,
      json.out,
      readFileSync(join(ctl, 'plan.json'), 'utf8'),
    ])
      expect(text).not.toContain(OLD_PASSWORD)
    // the plan still applies: b's hash is its plain one, as apply replays it alone
    const applied = await cutover(['apply', 'plan.json', '--quiet'], ctl, env)
    expect(applied.err).toBe('')
    expect(applied.code).toBe(0)
  })
})
