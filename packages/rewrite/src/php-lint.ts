import { execFile } from 'node:child_process'
import type { Validator } from './step.js'

interface Ran { code: number; out: string }

function exec(cmd: string, args: readonly string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], { timeout: 60_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0
      resolve({ code, out: `${stdout}${stderr}` })
    })
  })
}

let found: Promise<boolean> | undefined

/** True when a `php` command runs here (checked once). */
export function hasPhp(): Promise<boolean> {
  found ??= exec('php', ['-v']).then((r) => r.code === 0)
  return found
}

/**
 * `php-lint`: runs `php -l` on a staged PHP file; resolves to PHP's message (with the staged
 * path replaced by the target's) when the file does not parse, undefined when it does.
 */
export const phpLint: Validator = {
  name: 'php-lint',
  available: hasPhp,
  async run(stagedPath, target) {
    const r = await exec('php', ['-d', 'display_errors=stderr', '-d', 'log_errors=0', '-l', stagedPath])
    if (r.code === 0) return undefined
    const lines = r.out.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('Errors parsing'))
    return `php -l: ${lines.join('; ').split(stagedPath).join(target) || `exit code ${r.code}`}`
  },
}
