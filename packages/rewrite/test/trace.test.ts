import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { commitFiles, sha256 } from '../src/index.js'
import { tempDir } from '@cutover/test-kit/temp'
import { traced } from './traced.js'

/* CUTOVER_TRACE_PHASES: a line on stderr at the end of each phase of a transaction, nothing without it. */

async function commitTraced(env: string | undefined): Promise<string[]> {
  const dir = tempDir('cutover-trace-')
  mkdirSync(join(dir, 'etc'))
  writeFileSync(join(dir, 'etc', 'a.conf'), 'old\n')
  return traced(env, [], () =>
    commitFiles(
      [
        {
          target: 'etc/a.conf',
          path: join(dir, 'etc', 'a.conf'),
          before: sha256('old\n'),
          content: Buffer.from('new\n'),
        },
      ],
      { stateDir: join(dir, 'state') },
    ),
  )
}

describe('the phase trace of a transaction', () => {
  it('names each phase with its wall and CPU time when CUTOVER_TRACE_PHASES is set', async () => {
    const lines = await commitTraced('1')
    for (const l of lines)
      expect(l).toMatch(/^cutover: phase [a-z:-]+ at \d+ ms \(\+\d+ ms, cpu \+\d+ ms\)\n$/)
    const phases = lines.map((l) => l.split(' ')[2])
    expect(phases).toEqual(
      expect.arrayContaining(['begin:journaled', 'stage:written', 'prepared', 'committed']),
    )
    expect(phases.indexOf('begin:journaled')).toBeLessThan(phases.indexOf('stage:written'))
    expect(phases.at(-1)).toBe('committed')
  })
  it('prints nothing without it', async () => {
    expect(await commitTraced(undefined)).toEqual([])
  })
})
