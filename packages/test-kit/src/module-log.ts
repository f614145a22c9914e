import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** A record of the modules a node process loads, for tests that a command loads no more than it needs. */
export interface ModuleLog {
  /** The node arguments that register the recording hook (before the script). */
  importArgs: string[]
  /** The URLs of the modules the process resolved, one a line, in order. */
  loaded(): string
}

/**
 * Writes into `dir` a module resolve hook that appends the URL of every module a process
 * resolves to `dir`/loaded.txt, and the file that registers it (`node --import`).
 */
export function moduleLog(dir: string): ModuleLog {
  const log = join(dir, 'loaded.txt')
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `import { appendFileSync } from 'node:fs'\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r }\n`,
  )
  writeFileSync(
    join(dir, 'register.mjs'),
    `import { register } from 'node:module'\nregister(${JSON.stringify('file://' + join(dir, 'hooks.mjs'))})\n`,
  )
  return {
    importArgs: ['--import', join(dir, 'register.mjs')],
    loaded: () => readFileSync(log, 'utf8'),
  }
}
