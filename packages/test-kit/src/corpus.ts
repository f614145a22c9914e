import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { decodeText } from '@cutover/rewrite'

/**
 * The corpus of real configuration files, in the repository at `test/corpus/` (sources, commits
 * and licenses in its MANIFEST.md; `.gitattributes` keeps its bytes exact). Tests read it only
 * through this module, so that a fresh clone finds it wherever it is checked out.
 */
export const CORPUS = fileURLToPath(new URL('../../../test/corpus/', import.meta.url))

/** The absolute path of a corpus folder or file, e.g. `corpusPath('sql')`, `corpusPath('php', 'x.php')`. */
export function corpusPath(...parts: string[]): string {
  return join(CORPUS, ...parts)
}

/** Every file of a corpus folder, decoded as the engine decodes it. */
export function corpusFiles(folder: string): Array<{ name: string; text: string; bytes: Buffer }> {
  const dir = corpusPath(folder)
  return readdirSync(dir)
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name))
      return { name, text: decodeText(bytes).text, bytes }
    })
}

/**
 * Every file the MANIFEST lists (paths relative to the corpus, with the byte count it records),
 * read from the tables of its per-folder sections (`## php/` ... `| our file | bytes | ...`).
 */
export function manifestFiles(): Array<{ path: string; bytes: number }> {
  const out: Array<{ path: string; bytes: number }> = []
  let folder: string | undefined
  let inTable = false
  for (const line of readFileSync(corpusPath('MANIFEST.md'), 'utf8').split('\n')) {
    const section = /^## (\S+)\/\s*$/.exec(line)
    if (line.startsWith('## ')) [folder, inTable] = [section?.[1], false]
    else if (folder !== undefined && line.startsWith('| our file |')) inTable = true
    else if (inTable && folder !== undefined) {
      const row = /^\| `([^`]+)` \| (\d+) \|/.exec(line)
      if (row) out.push({ path: `${folder}/${row[1]}`, bytes: Number(row[2]) })
    }
  }
  return out
}
