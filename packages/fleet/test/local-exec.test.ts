import { afterEach, describe, expect, it } from 'vitest'
import { localExec } from '../src/index.js'

describe('localExec', () => {
  const saved = { ...process.env }
  // in place: the worker's next test file (the fast projects share workers) sees this same
  // process.env, with this file's variables gone
  afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  })

  it('runs sh -c with stdin fed and gives the exit code, stdout bytes and stderr', async () => {
    const r = await localExec('cat; printf "\\377" ; echo oops >&2; exit 3', {
      stdin: Buffer.from('fed\n'),
    })
    expect(r.code).toBe(3)
    expect(r.stdout).toEqual(Buffer.concat([Buffer.from('fed\n'), Buffer.from([0xff])]))
    expect(r.stderr).toBe('oops\n')
  })

  it('gives the script a clean environment: the search path and the C locale only', async () => {
    process.env.CUTOVER_SECRET_FOR_TEST = 'hunter2'
    const r = await localExec('env')
    const names = r.stdout
      .toString()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('=')[0])
    expect(names).not.toContain('CUTOVER_SECRET_FOR_TEST')
    expect(r.stdout.toString()).toContain('LC_ALL=C\n')
  })

  it('reports a script killed by a signal as a shell does (128 + signal)', async () => {
    const r = await localExec('kill -9 $$')
    expect(r.code).toBe(137)
  })

  it('kills a script that runs past the tool timeout and rejects with ETIMEDOUT', async () => {
    process.env.CUTOVER_TOOL_TIMEOUT_MS = '200'
    // killed, not waited for: sooner than the sleep would end, however loaded the machine
    const started = Date.now()
    await expect(localExec('sleep 50')).rejects.toMatchObject({ code: 'ETIMEDOUT' })
    expect(Date.now() - started).toBeLessThan(50_000)
  })

  it('does not fail when the script ignores a large stdin', async () => {
    const r = await localExec('exit 0', { stdin: Buffer.alloc(4 << 20, 0x61) })
    expect(r.code).toBe(0)
  })
})
