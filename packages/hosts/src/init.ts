import type { InitSuggestion } from '@cutover/rewrite'

/**
 * The name each address gets in a hosts file, for `cutover init`'s inventory: the first dotted
 * name of its first line (else its first name); commented text is no line.
 */
function namesOf(text: string): Array<[address: string, name: string]> {
  const out: Array<[string, string]> = []
  for (const line of text.split(/\r?\n/)) {
    const [address, ...names] = line.replace(/#.*/, '').trim().split(/\s+/)
    const name = names.find((n) => n.includes('.')) ?? names[0]
    if (address && name) out.push([address, name])
  }
  return out
}

/** What `cutover init` suggests for hosts files (below etc/): every inventory name at its new address. */
export const hostsInit: InitSuggestion = {
  group: 'hosts',
  files: ['etc/**/hosts'],
  rank: 0,
  order: 70,
  step: { why: 'hosts files: every inventory name points at its new address', keys: 'ensure: new' },
  names: namesOf,
}
