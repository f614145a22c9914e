import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { applyEdits } from '@cutover/rewrite'
import { describe, expect, it } from 'vitest'
import { ensureRule, parseSudoers } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'

// found by the property test (seed -177942410): a file ending in a backslash continuation
describe('a rule added after a backslash continuation', () => {
  it.each([
    ['Defaults!/bin/ls \\\nenv_reset\\\n'],
    ['Defaults env_reset,\\\n  always_set_home \\'],
  ])('stays a line of its own: %j', (src) => {
    const out = applyEdits(
      src,
      ensureRule(parseSudoers(src), 'www-data ALL=(finance) NOPASSWD: /bin/true'),
    )
    const doc = parseSudoers(out)
    expect(doc.errors).toEqual([])
    expect(doc.entries.filter((e) => e.type === 'rule')).toHaveLength(1)
    expect(ensureRule(doc, 'www-data ALL=(finance) NOPASSWD: /bin/true')).toEqual([])
    const file = join(tempDir('cutover-sudoers-'), 'f')
    writeFileSync(file, out)
    expect(execFileSync('visudo', ['-cf', file], { encoding: 'utf8' })).toContain('parsed OK')
  })
})
