import { execFileSync, spawnSync } from 'node:child_process'

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
