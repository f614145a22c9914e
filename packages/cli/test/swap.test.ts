import { appendFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../src/io.js'
import { run } from '../src/run.js'
import { makeTree } from './tree.js'

const SPEC = `version: 1
steps:
  - json: { files: [etc/mentat/hawat.json], swap: [[mentat-hub.cesnet.cz, mentat-alt.cesnet.cz]] }
  - php: { files: [var/www/config.php], swap: [[mentat-hub.cesnet.cz, mentat-alt.cesnet.cz]] }
  - text: { files: [etc/hostname], swap: [[mentat-hub, mentat-alt]] }
  - ini: { files: [etc/mentat/app.ini], swap: [[mentat-hub.cesnet.cz, mentat-alt.cesnet.cz]] }
  - js: { files: [var/www/config.js], swap: [[mentat-hub.cesnet.cz, mentat-alt.cesnet.cz]] }
  - hosts: { files: [etc/hosts], swap: [[mentat-hub.cesnet.cz, mentat-alt.cesnet.cz]] }
  - sql: { files: [backup/dump.sql], functions: ["public.*"], swap: [[mentat-hub.cesnet.cz, mentat-alt.cesnet.cz]] }
`

/** Every step kind that has `swap`, each on a file holding both values of the pair. */
const FILES = {
  'etc/mentat/hawat.json': '{ "server": "mentat-alt.cesnet.cz", "peer": "mentat-hub.cesnet.cz" }\n',
  'var/www/config.php': "<?php $server = 'mentat-alt.cesnet.cz'; $peer = 'mentat-hub.cesnet.cz';\n",
  'etc/hostname': 'mentat-alt\n',
  'etc/mentat/app.ini': 'server = mentat-alt.cesnet.cz\npeer = mentat-hub.cesnet.cz\n',
  'var/www/config.js':
    "module.exports = { server: 'mentat-alt.cesnet.cz', peer: 'mentat-hub.cesnet.cz' }\n",
  'etc/hosts':
    '127.0.0.1 localhost\n10.0.0.1 mentat-alt.cesnet.cz\n10.0.0.2 mentat-hub.cesnet.cz\n',
  'backup/dump.sql':
    "CREATE FUNCTION public.peer() RETURNS text LANGUAGE sql AS $$ SELECT 'host=mentat-alt.cesnet.cz' $$;\n",
}

describe('a swap applied once is not applied again, whatever the step kind', () => {
  it('plans nothing after the apply, and swaps again after a rollback', async () => {
    const dir = makeTree({ 'cutover.yaml': SPEC, ...FILES })
    expect(await run(['apply', '--root', '.', '--yes', '--quiet'], memoryIo({ cwd: dir }))).toBe(0)
    // every file was swapped
    for (const [path, before] of Object.entries(FILES))
      expect(readFileSync(join(dir, path), 'utf8'), path).not.toBe(before)
    expect(readFileSync(join(dir, 'etc/mentat/hawat.json'), 'utf8')).toBe(
      '{ "server": "mentat-hub.cesnet.cz", "peer": "mentat-alt.cesnet.cz" }\n',
    )
    expect(readFileSync(join(dir, 'var/www/config.php'), 'utf8')).toBe(
      "<?php $server = 'mentat-hub.cesnet.cz'; $peer = 'mentat-alt.cesnet.cz';\n",
    )
    expect(await run(['plan', '--root', '.', '--detailed-exitcode'], memoryIo({ cwd: dir }))).toBe(
      0,
    )
    // the record is the swap's, not the spec's: an edit of the spec elsewhere changes nothing
    appendFileSync(join(dir, 'cutover.yaml'), '# reviewed\n')
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.', '--detailed-exitcode'], io), io.out()).toBe(0)
    expect(await run(['rollback', '--root', '.', '--yes'], memoryIo({ cwd: dir }))).toBe(0)
    expect(await run(['plan', '--root', '.', '--detailed-exitcode'], memoryIo({ cwd: dir }))).toBe(
      2,
    )
  })

  it('is one move per keys: two steps swapping one pair in different keys of a file both swap', async () => {
    const dir = makeTree({
      'cutover.yaml': `version: 1
steps:
  - text: { files: [etc/app.conf], swap: [[db-a, db-b]], keys: [primary] }
  - text: { files: [etc/app.conf], swap: [[db-a, db-b]], keys: [replica] }
`,
      'etc/app.conf': 'primary db-a\r\nreplica db-b\r\nbackup db-a\r\n',
    })
    expect(await run(['apply', '--root', '.', '--yes', '--quiet'], memoryIo({ cwd: dir }))).toBe(0)
    expect(readFileSync(join(dir, 'etc/app.conf'), 'utf8')).toBe(
      'primary db-b\r\nreplica db-a\r\nbackup db-a\r\n',
    )
    // each move is recorded on its own: the second plan has nothing to do, and no warning
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.', '--detailed-exitcode'], io), io.out()).toBe(0)
    expect(io.err()).toBe('')
  })

  it('is refused on a live database, which keeps no record of it', async () => {
    const dir = makeTree({
      'cutover.yaml':
        'version: 1\nsteps:\n  - sql: { database: { url: { env: PG_URL } }, swap: [[db-a, db-b]] }\n',
    })
    const io = memoryIo({ cwd: dir })
    expect(await run(['plan', '--root', '.'], io)).toBe(1)
    expect(io.err()).toMatch(/cutover\.yaml:3:\d+: .*swap cannot be used with database:/)
  })
})
