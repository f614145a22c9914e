// The migration the bench plans: the finance example's machines plus one whose old address is a
// prefix of another's (10.0.10.13 / 10.0.10.130), the trap of sequential sed.

export const inventory = [
  { name: 'finance.thehumanjourney.net', old: '10.0.10.48', new: '10.0.10.49' },
  { name: 'timesheets.thehumanjourney.net', old: '10.0.10.23', new: '192.168.98.51' },
  { name: 'hrdb.thehumanjourney.net', old: '10.0.10.42', new: '10.0.10.43' },
  { name: 'tenders.thehumanjourney.net', old: '10.0.10.63', new: '10.0.10.180' },
  { name: 'ldap.thehumanjourney.net', old: '10.0.10.13', new: '10.0.10.14' },
  { name: 'archives-db.thehumanjourney.net', old: '10.0.10.130', new: '10.0.10.131' },
  { name: 'mapdata.thehumanjourney.net', old: '192.168.98.24', new: '192.168.98.25' },
  { name: 'rabbitmq.thehumanjourney.net', old: '10.0.10.107', new: '10.0.10.108' },
]

/** The `hosts:` block of a spec. */
export function hostsYaml() {
  return (
    'hosts:\n' + inventory.map((h) => `  ${h.name}: { old: ${h.old}, new: ${h.new} }\n`).join('')
  )
}

/** Strings that look like an old address to a careless tool but are not one. */
export function decoysOf(addr) {
  const dashed = addr.replaceAll('.', '-')
  return [`${addr}0`, `1${addr}`, `${addr}.5`, `ip-${dashed}`]
}

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** A regex that finds what naive (unescaped, unbounded) sed would touch: generated noise must hold none. */
export const naiveRe = new RegExp(inventory.map((h) => h.old).join('|'))
/** The same with escaped dots: what a literal search finds. */
export const literalRe = new RegExp(inventory.map((h) => esc(h.old)).join('|'))
