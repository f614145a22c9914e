import { execFileSync, spawnSync } from 'node:child_process'

/** Whether an executable is on PATH (or in /usr/sbin). */
export function has(tool: string): boolean {
  return (
    spawnSync('sh', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], { stdio: 'ignore' })
      .status === 0
  )
}

/** True when `tool` is here; under CI=true a missing tool is an error, never a skip. */
export function need(tool: string): boolean {
  if (has(tool)) return true
  if (process.env.CI === 'true') throw new Error(`${tool} missing (required in CI)`)
  return false
}

/** `cvtsudoers -f json FILE` parsed, or undefined when sudo rejects the file or prints invalid JSON. */
export function cvtsudoers(path: string): Record<string, unknown> | undefined {
  const r = spawnSync('cvtsudoers', ['-f', 'json', path], { encoding: 'utf8' })
  if (r.status !== 0) return undefined
  if (r.stdout.trim() === '') return {}
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/** `visudo -cf FILE`: undefined when accepted, else its output. */
export function visudo(path: string): string | undefined {
  try {
    execFileSync('visudo', ['-cf', path], { encoding: 'utf8', stdio: 'pipe' })
    return undefined
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string }
    return `${x.stdout ?? ''}${x.stderr ?? ''}`
  }
}
