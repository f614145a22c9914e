import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { tempDir } from '@cutover/test-kit/temp'

/**
 * Creates a temporary directory holding `files` (path → bytes or text), removed when the test file
 * ends (`tempDir`).
 */
export function makeTree(files: Record<string, string | Buffer>, prefix = 'cutover-'): string {
  const dir = tempDir(prefix)
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  return dir
}

/** Every file below `dir` with its bytes and mode, for before/after comparisons. */
export function snapshot(dir: string): Record<string, { bytes: string; mode: number }> {
  const out: Record<string, { bytes: string; mode: number }> = {}
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      const st = lstatSync(p)
      if (st.isDirectory()) walk(p)
      else
        out[relative(dir, p)] = {
          bytes: st.isSymbolicLink() ? `-> ${p}` : readFileSync(p).toString('base64'),
          mode: statSync(p).mode & 0o7777,
        }
    }
  }
  walk(dir)
  return out
}
