import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { localExec } from '../src/index.js'
import { MachineTrace } from '../src/trace.js'
import { haveSftpServer, startSftp, type ServerSession } from './sftp-server.js'

/*
 * The trace of a machine's remote work (CUTOVER_TRACE_PHASES): the SFTP channel's counts of
 * requests and bursts, and the lines a MachineTrace writes.
 */

describe.runIf(haveSftpServer)('the SFTP counts of the trace', () => {
  let s: ServerSession
  beforeAll(async () => {
    s = await startSftp()
  })
  afterAll(async () => {
    await s.client.end()
  })

  it('counts requests, and a burst for each one sent with none in flight', async () => {
    const start = { ...s.client.counts }
    await Promise.all(['/', '/tmp', '/etc'].map((p) => s.client.lstat(p)))
    expect(s.client.counts.requests - start.requests).toBe(3)
    expect(s.client.counts.bursts - start.bursts).toBe(1)
    for (const p of ['/', '/tmp']) await s.client.lstat(p)
    expect(s.client.counts.requests - start.requests).toBe(5)
    expect(s.client.counts.bursts - start.bursts).toBe(3)
  })
})

describe('MachineTrace', () => {
  it('writes a line per command run and per mark, with the SFTP requests since the line before', async () => {
    const counts = { requests: 0, bursts: 0 }
    const trace = new MachineTrace('m1', () => counts)
    const lines: string[] = []
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk))
      return true
    })
    try {
      const exec = trace.wrap(localExec)
      counts.requests = 7
      counts.bursts = 2
      const r = await exec('echo hello   world')
      expect(r.stdout.toString()).toBe('hello world\n')
      counts.requests = 10
      counts.bursts = 3
      trace.mark('prepared')
    } finally {
      spy.mockRestore()
    }
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(
      /^cutover: m1 exec #1 at \d+ ms took \d+ ms: echo hello world \(sftp \+7 requests in 2 bursts, at \d+ ms\)\n$/,
    )
    expect(lines[1]).toMatch(
      /^cutover: m1 prepared \(sftp \+3 requests in 1 bursts, at \d+ ms\)\n$/,
    )
  })
})
