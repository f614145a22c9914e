import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cutover, fleetSpec, SSH_TEST_MS, startCutover, useFleet, writeTrees } from './fleet-kit.js'

// a value no file, path or key of the test holds by chance
const SECRET = 'Fl33t-s3cret-7d1c0a'

const kit = useFleet(3, 'cutover-fleet-secret-')

/** Every file under `root`, recursively (contents as text). */
function everyFile(root: string): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = []
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n)
      const st = statSync(p, { throwIfNoEntry: false })
      if (!st) continue
      if (st.isDirectory()) walk(p)
      else if (st.isFile()) out.push({ path: p, text: readFileSync(p).toString('latin1') })
    }
  }
  walk(root)
  return out
}

/** The command line of every process now: `ps` and every /proc/PID/cmdline. */
function commandLines(): string {
  let all = execFileSync('ps', ['-eww', '-o', 'args'], { encoding: 'utf8' })
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      all += readFileSync(`/proc/${pid}/cmdline`).toString('latin1').replace(/\0/g, ' ') + '\n'
    } catch {
      // gone meanwhile
    }
  }
  return all
}

describe('a secret set on two machines', () => {
  it(
    'is written there, and never appears in argv, ps, the plan, the journals or the output',
    async () => {
      const ctl = mkdtempSync(join(kit.dir, 'ctl-'))
      writeTrees(kit.fleet)
      writeFileSync(
        join(ctl, 'cutover.yaml'),
        fleetSpec(kit.fleet, 'secrets:\n  PW: { env: APP_PW }').replace(
          'steps:\n',
          'steps:\n  - php: { on: [m1, m2], files: ["var/www/*/config.php"], set: { DB_PASSWORD: { secret: PW } } }\n',
        ),
      )
      const env = { CUTOVER_SSH_CONFIG: kit.fleet.sshConfig, APP_PW: SECRET }
      const outputs: string[] = []
      const plan = await cutover(['plan', '--out', 'plan.json'], ctl, env)
      expect(plan.code).toBe(0)
      outputs.push(plan.out, plan.err)

      // apply while watching every process's command line
      const seen: string[] = []
      const { closed: done } = startCutover(['apply', 'plan.json'], ctl, env)
      let running = true
      void done.then(() => (running = false))
      let samples = 0
      while (running) {
        seen.push(commandLines())
        samples++
        await new Promise((r) => setTimeout(r, 5))
      }
      const applied = await done
      expect(applied.err).toBe('')
      expect(applied.code).toBe(0)
      outputs.push(applied.out, applied.err)
      expect(samples).toBeGreaterThan(1)
      // the sampling saw the apply's own ssh connections to the machines
      expect(seen.join('\n')).toMatch(/ssh .*m[123]/)
      for (const s of seen) expect(s).not.toContain(SECRET)

      for (const [k, m] of kit.fleet.machines.entries()) {
        const php = readFileSync(join(m.root, 'var/www/app/config.php'), 'utf8')
        if (k < 2) expect(php).toContain(`define('DB_PASSWORD', '${SECRET}');`)
        else expect(php).not.toContain(SECRET)
        // the machine's journals and backups
        for (const f of everyFile(join(m.root, 'var/lib/cutover')))
          expect(f.text).not.toContain(SECRET)
      }
      // the plan, the controller's journals, and everything else the controller wrote
      for (const f of everyFile(ctl)) expect(f.text).not.toContain(SECRET)
      for (const o of outputs) expect(o).not.toContain(SECRET)
    },
    SSH_TEST_MS,
  )
})
