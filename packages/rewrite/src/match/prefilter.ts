import { literalAlternation } from './match.js'

/**
 * One scan of a file's raw bytes for the needles of several groups (the leftover literals, each
 * step's literals): which groups have at least one needle in the file. Bytes are viewed as latin1
 * (one character per byte, no validation), so a needle matches exactly where its bytes occur;
 * every needle is looked for both as UTF-8 bytes and, when it has characters up to U+00FF beyond
 * ASCII, as latin1 bytes, since a latin1 file holds them as single bytes.
 */
export class Prefilter {
  /** How many groups were given. */
  readonly size: number
  readonly #re: RegExp | undefined
  /** For each needle form, the groups it proves present: its own and those of its prefixes. */
  readonly #groupsOf = new Map<string, number[]>()

  constructor(groups: readonly (readonly string[])[]) {
    this.size = groups.length
    const own = new Map<string, Set<number>>()
    groups.forEach((needles, g) => {
      for (const n of needles) {
        for (const form of forms(n)) {
          let set = own.get(form)
          if (!set) own.set(form, (set = new Set()))
          set.add(g)
        }
      }
    })
    const all = [...own.keys()].sort((a, b) => b.length - a.length)
    // the lengths the needles have, few however many needles there are: the prefixes of a form
    // that can be needles are looked up by these lengths (the comparisons of every pair of
    // needles made a 50,000-key spec take minutes)
    const lengths = [...new Set(all.map((f) => f.length))].sort((a, b) => a - b)
    for (const form of all) {
      // an occurrence of `form` is an occurrence of every needle that is a prefix of it
      const proven = new Set<number>()
      for (const n of lengths) {
        if (n > form.length) break
        for (const g of own.get(n === form.length ? form : form.slice(0, n)) ?? []) proven.add(g)
      }
      this.#groupsOf.set(form, [...proven])
    }
    // at each position the regex reports the longest needle there
    this.#re = all.length ? new RegExp(literalAlternation(all), 'g') : undefined
  }

  /** The regex source and needle table, for a scanner running in another thread. */
  tables(): { source: string | undefined; groupsOf: Array<[string, number[]]> } {
    return { source: this.#re?.source, groupsOf: [...this.#groupsOf] }
  }

  /** `found[g]` is true when some needle of group `g` occurs in `bytes[0, length)`. */
  scan(bytes: Buffer, length = bytes.length): boolean[] {
    return this.#re
      ? this.scanLatin1(bytes.toString('latin1', 0, length))
      : new Array<boolean>(this.size).fill(false)
  }

  /**
   * {@link scan} on a text whose characters are the file's bytes (its latin1 view, e.g. an ASCII
   * file decoded): no copy of a large file is made for the scan.
   */
  scanLatin1(text: string): boolean[] {
    const found: boolean[] = new Array<boolean>(this.size).fill(false)
    const re = this.#re
    if (!re) return found
    let missing = this.size
    re.lastIndex = 0
    for (let m = re.exec(text); m && missing > 0; m = re.exec(text)) {
      for (const g of this.#groupsOf.get(m[0])!) {
        if (!found[g]) {
          found[g] = true
          missing--
        }
      }
      re.lastIndex = m.index + 1
    }
    return found
  }
}

/** The byte strings (as latin1 text) a needle can take in a file. */
function forms(needle: string): string[] {
  if (needle === '') return []
  const out = [Buffer.from(needle, 'utf8').toString('latin1')]
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(needle) && !/[^\x00-\xff]/.test(needle)) out.push(needle)
  return out
}
