import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { localStateFileSystem, type StateFileSystem } from '@cutover/rewrite'
import {
  controllerOf,
  decisionOf,
  fleetJournalPath,
  newFleetTxid,
  readFleetJournals,
  unfinished,
  withControllerLock,
  writeFleetJournal,
  type FleetJournal,
} from '../src/fleet-journal.js'
import { tempDir } from '@cutover/test-kit/temp'

const ctlDir = () => join(tempDir('cutover-fleet-journal-'), '.cutover')

function journal(txid: string, state: FleetJournal['state'], created: string): FleetJournal {
  return {
    txid,
    state,
    created,
    kind: 'apply',
    machines: [
      { name: 'finance', ssh: 'root@finance', root: '/', stateDir: '/var/lib/cutover' },
      { name: 'tenders', root: '/srv/tenders', stateDir: '/srv/tenders/var/lib/cutover' },
    ],
  }
}

describe('the fleet journal of the controller', () => {
  it("fsyncs a new transaction's directory entry (and fleet/'s) before its journal is written", async () => {
    const ctl = ctlDir()
    const calls: Array<[string, string]> = []
    const fs: StateFileSystem = {
      ...localStateFileSystem,
      mkdir: (p) => (calls.push(['mkdir', p]), localStateFileSystem.mkdir(p)),
      fsync: (p) => (calls.push(['fsync', p]), localStateFileSystem.fsync(p)),
      writeDurable: (p, d) => (
        calls.push(['writeDurable', p]),
        localStateFileSystem.writeDurable(p, d)
      ),
    }
    const txid = newFleetTxid()
    await writeFleetJournal(ctl, journal(txid, 'preparing', '2026-12-04T10:00:00.000Z'), fs)
    await writeFleetJournal(ctl, journal(txid, 'commit', '2026-12-04T10:00:00.000Z'), fs)
    expect(calls).toEqual([
      ['mkdir', join(ctl, 'fleet', txid)],
      ['fsync', join(ctl, 'fleet')],
      ['fsync', ctl],
      ['writeDurable', fleetJournalPath(ctl, txid)],
      // the commit record: the directory is there, durable already
      ['mkdir', join(ctl, 'fleet', txid)],
      ['writeDurable', fleetJournalPath(ctl, txid)],
    ])
    expect(statSync(join(ctl, 'fleet', txid)).mode & 0o777).toBe(0o700)
    expect((await readFleetJournals(ctl)).map((j) => j.state)).toEqual(['commit'])
  })

  it('is written durably as 0600 JSON under fleet/<txid>/, and read back oldest first', async () => {
    const ctl = ctlDir()
    const a = newFleetTxid()
    const b = newFleetTxid()
    expect(a).toMatch(/^\d{8}-\d{9}-[0-9a-f]{8}$/)
    expect(a).not.toBe(b)
    await writeFleetJournal(ctl, journal(b, 'preparing', '2026-12-04T10:00:01.000Z'))
    await writeFleetJournal(ctl, journal(a, 'committed', '2026-12-04T10:00:00.000Z'))
    const path = fleetJournalPath(ctl, b)
    expect(path).toBe(join(ctl, 'fleet', b, 'journal.json'))
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ txid: b, state: 'preparing' })
    // the durable write leaves no temp file beside the journal
    expect(readdirSync(join(ctl, 'fleet', b))).toEqual(['journal.json'])
    const read = await readFleetJournals(ctl)
    expect(read.map((j) => [j.txid, j.state])).toEqual([
      [a, 'committed'],
      [b, 'preparing'],
    ])
    // a state change replaces the record
    await writeFleetJournal(ctl, { ...read[1]!, state: 'commit', pending: ['finance'] })
    expect((await readFleetJournals(ctl))[1]).toMatchObject({
      state: 'commit',
      pending: ['finance'],
    })
  })

  it('reads an absent directory as no transactions, skips one never written, and refuses a corrupt one', async () => {
    const ctl = ctlDir()
    expect(await readFleetJournals(ctl)).toEqual([])
    mkdirSync(join(ctl, 'fleet', 'x'), { recursive: true })
    expect(await readFleetJournals(ctl)).toEqual([])
    writeFileSync(join(ctl, 'fleet', 'x', 'journal.json'), '{"txid":')
    await expect(readFleetJournals(ctl)).rejects.toMatchObject({ code: 'STATE' })
  })

  it('answers a machine by the decision it recorded, and only for marks of its own', async () => {
    const ctl = ctlDir()
    const ids = [newFleetTxid(), newFleetTxid(), newFleetTxid(), newFleetTxid()]
    const states = ['preparing', 'commit', 'committed', 'aborted'] as const
    for (const [i, s] of states.entries())
      await writeFleetJournal(ctl, journal(ids[i]!, s, `2026-12-04T10:00:0${i}.000Z`))
    const js = await readFleetJournals(ctl)
    const mark = (txid: string) => ({ txid, controller: controllerOf(ctl, txid) })
    expect(controllerOf(ctl, ids[0]!)).toBe(`${hostname()}:${fleetJournalPath(ctl, ids[0]!)}`)
    expect(states.map((_, i) => decisionOf(js, ctl, mark(ids[i]!)))).toEqual([
      'abort',
      'commit',
      'commit',
      'abort',
    ])
    // another controller's journal, or one this controller does not have, is not ours to decide
    expect(
      decisionOf(js, ctl, {
        txid: ids[1]!,
        controller: `elsewhere:${fleetJournalPath(ctl, ids[1]!)}`,
      }),
    ).toBe(undefined)
    expect(decisionOf(js, ctl, mark(newFleetTxid()))).toBe(undefined)
    expect(js.map(unfinished)).toEqual([true, true, false, false])
    expect(unfinished({ ...js[3]!, pending: ['finance'] })).toBe(true)
  })

  it('locks the controller state directory, created 0700, against a second command', async () => {
    const ctl = ctlDir()
    let inner: unknown
    await withControllerLock(ctl, 'cutover apply', async () => {
      expect(statSync(ctl).mode & 0o777).toBe(0o700)
      inner = await withControllerLock(ctl, 'cutover recover', async () => 'ran').catch(
        (e: Error) => e,
      )
    })
    expect(inner).toMatchObject({ code: 'LOCKED' })
    expect((inner as Error).message).toContain(`by cutover apply (pid ${process.pid}`)
    expect(await withControllerLock(ctl, 'cutover recover', async () => 'ran')).toBe('ran')
  })
})
