import { readFileSync } from 'node:fs'
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
`

describe('a swap applied once is not applied again, whatever the step kind', () => {
  it('plans nothing after the apply, and swaps again after a rollback', async () => {
    const dir = makeTree({
      'cutover.yaml': SPEC,
      'etc/mentat/hawat.json': '{ "server": "mentat-alt.cesnet.cz", "peer": "mentat-hub.cesnet.cz" }\n',
      'var/www/config.php': "<?php $server = 'mentat-alt.cesnet.cz'; $peer = 'mentat-hub.cesnet.cz';\n",
      'etc/hostname': 'mentat-alt\n',
    })
    expect(await run(['apply', '--root', '.', '--yes', '--quiet'], memoryIo({ cwd: dir }))).toBe(0)
    expect(readFileSync(join(dir, 'etc/mentat/hawat.json'), 'utf8')).toBe('{ "server": "mentat-hub.cesnet.cz", "peer": "mentat-alt.cesnet.cz" }\n')
    expect(readFileSync(join(dir, 'var/www/config.php'), 'utf8')).toBe("<?php $server = 'mentat-hub.cesnet.cz'; $peer = 'mentat-alt.cesnet.cz';\n")
    expect(await run(['plan', '--root', '.', '--detailed-exitcode'], memoryIo({ cwd: dir }))).toBe(0)
    expect(await run(['rollback', '--root', '.', '--yes'], memoryIo({ cwd: dir }))).toBe(0)
    expect(await run(['plan', '--root', '.', '--detailed-exitcode'], memoryIo({ cwd: dir }))).toBe(2)
  })
})
