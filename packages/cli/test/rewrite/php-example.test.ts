import { execFileSync } from 'node:child_process'
import { cpSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo } from '../../src/io.js'
import { run } from '../../src/run.js'
import { need } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// each VM's config.php is on its own machine of the example: machines/VM/var/www/VM/config.php
const MACHINES = join(import.meta.dirname, '../../../../examples/finance/machines')
const VMS = ['finance', 'hrdb', 'tenders', 'timesheets']

const SPEC = `version: 1
hosts:
  finance.thehumanjourney.net:     { old: 10.0.10.48,    new: 10.0.10.49 }
  timesheets.thehumanjourney.net:  { old: 10.0.10.23,    new: 192.168.98.51 }
  hrdb.thehumanjourney.net:        { old: 10.0.10.42,    new: 10.0.10.43 }
  tenders.thehumanjourney.net:     { old: 10.0.10.63,    new: 10.0.10.180 }
  archives-db.thehumanjourney.net: { old: 10.0.10.130,   new: 10.0.10.130 }
  mapdata.thehumanjourney.net:     { old: 192.168.98.24, new: 192.168.98.24 }
  rabbitmq.thehumanjourney.net:    { old: 10.0.10.107,   new: 10.0.10.107 }
profiles: [test, live]
variants:
  routing-keys:
    - { test: oas.staff.test,    live: oas.staff }
    - { test: oas.projects.test, live: oas.projects }
secrets:
  FINANCE_DB_PASSWORD: { env: FINANCE_DB_PASSWORD }
steps:
  - php:
      files: ["var/www/*/config.php"]
      addresses: names
      variants: [routing-keys]
  - php:
      files: ["var/www/finance/config.php"]
      set: { DB_PASSWORD: { secret: FINANCE_DB_PASSWORD } }
`

describe('examples/finance: the four config.php files', () => {
  it('plan and apply rewrite every VM config, which still passes php -l, and flip back for live', async () => {
    const dir = tempDir('cutover-example-')
    for (const vm of VMS)
      cpSync(join(MACHINES, vm, 'var/www', vm), join(dir, 'var/www', vm), { recursive: true })
    writeFileSync(join(dir, 'cutover.yaml'), SPEC)
    const env = { FINANCE_DB_PASSWORD: 'Fin\\ance$2025' }
    const plan = memoryIo({ cwd: dir, env })
    const code = await run(['apply', '--root', '.', '--profile', 'test', '--yes'], plan)
    expect(plan.err()).toBe('')
    expect(code).toBe(0)
    expect(plan.out()).not.toContain('Fin\\ance')
    expect(plan.out()).toContain(
      'var/www/finance/config.php:4:27: 10.0.10.48 — old address: inside a comment',
    )
    for (const vm of VMS) {
      const text = readFileSync(join(dir, 'var/www', vm, 'config.php'), 'utf8')
      expect(text).not.toMatch(/'10\.0\.10\.(48|23|42|63)'/)
      if (need('php')) execFileSync('php', ['-l', join(dir, 'var/www', vm, 'config.php')])
    }
    const finance = readFileSync(join(dir, 'var/www/finance/config.php'), 'utf8')
    expect(finance).toContain("define('DB_PASSWORD', 'Fin\\\\ance$2025');")
    expect(finance).toContain("array('oas.staff.test', 'oas.projects.test')")
    const live = memoryIo({ cwd: dir, env })
    expect(await run(['apply', '--root', '.', '--profile', 'live', '--yes'], live)).toBe(0)
    expect(readFileSync(join(dir, 'var/www/finance/config.php'), 'utf8')).toContain(
      "array('oas.staff', 'oas.projects')",
    )
    const verify = memoryIo({ cwd: dir, env })
    expect(await run(['verify', '--root', '.', '--profile', 'live'], verify)).toBe(0)
  })
})
