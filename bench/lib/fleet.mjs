// Generates the fleet tree: N config files (php, ini, conf, json, text; 1-20 KB), 2% holding old
// addresses in realistic places, 0.5% holding only decoys, and expected.json describing every
// site (an address that must change, a decoy that must not) with the expected output's hash.
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { decoysOf, inventory, literalRe, naiveRe } from './inventory.mjs'
import { random } from './rand.mjs'

const WORDS =
  'cache pool worker queue mail session upload backup report ledger staff project invoice audit timeout retry buffer socket proxy upstream static media theme locale cron batch export import sync token limit quota index search shard replica archive'.split(
    ' ',
  )

const SITES = {
  php: [
    "define('DB_HOST', '{A}');",
    "$CFG->dbhost = '{A}';",
    "$db['default']['hostname'] = '{A}';",
    "$servers = ['{A}', '{B}'];",
    '$dsn = "pgsql:host={A};port=5432;dbname=app";',
  ],
  ini: ['host = {A}', 'amqp.host = "{A}"', 'servers = {A}:5672,{B}:5672'],
  conf: [
    '    proxy_pass http://{A}:8080/;',
    '    server {A}:5432 max_fails=3;',
    'ProxyPass /app http://{A}/app',
    '    allow {A};',
    'DB_HOST={A}',
  ],
  json: [
    '  "host": "{A}"',
    '  "upstreams": ["{A}:8080", "{B}:8080"]',
    '  "dsn": "postgres://app@{A}:5432/app"',
  ],
  txt: ['the database now answers on {A} since monday', 'ssh ops@{A} -p 22'],
}
const DECOYS = {
  php: ["define('BUILD_ID', '{D}');", '// formerly {D}'],
  ini: ['version = {D}', '; old = {D}'],
  conf: ['    server_name {D};', '# was {D}'],
  json: ['  "build": "{D}"'],
  txt: ['ticket {D} closed'],
}
const FORMATS = [
  ['php', 25],
  ['ini', 15],
  ['conf', 30],
  ['json', 15],
  ['txt', 15],
]
const DIRS = {
  php: 'var/www/app',
  ini: 'etc/php',
  conf: 'etc/nginx',
  json: 'opt/svc',
  txt: 'home/ops',
}

function noisePools(rng) {
  const w = () => rng.pick(WORDS)
  const n = () => rng.int(100000)
  const ip = () => {
    for (;;) {
      const s =
        rng.next() < 0.5
          ? `172.${16 + rng.int(16)}.${rng.int(256)}.${1 + rng.int(254)}`
          : `10.${1 + rng.int(9)}.${rng.int(256)}.${1 + rng.int(254)}`
      if (!naiveRe.test(s)) return s
    }
  }
  const make = (count, f) => Array.from({ length: count }, f).filter((l) => !naiveRe.test(l))
  return {
    php: make(3000, () =>
      rng.pick([
        () => `$config['${w()}_${w()}'] = '${w()} ${w()} ${n()}';`,
        () => `// ${w()} ${w()} ${w()} ${w()} ${n()}`,
        () => `define('${w().toUpperCase()}_${w().toUpperCase()}', ${n()});`,
        () => `$settings['${w()}']['${w()}'] = ['${w()}', '${w()}-${n()}', ${n()}];`,
        () => `$peers[] = '${ip()}';`,
      ])(),
    ),
    ini: make(3000, () =>
      rng.pick([
        () => `[${w()}_${w()}]`,
        () => `${w()}_${w()} = ${w()}-${n()}`,
        () => `; ${w()} ${w()} ${w()} ${n()}`,
        () => `${w()}.${w()} = "${w()} ${w()}"`,
        () => `bind = ${ip()}`,
      ])(),
    ),
    conf: make(3000, () =>
      rng.pick([
        () => `    ${w()}_${w()} ${w()}-${n()};`,
        () => `# ${w()} ${w()} ${w()} ${n()}`,
        () => `location /${w()}/${w()}/ {`,
        () => '}',
        () => `    allow ${ip()};`,
        () => `    keepalive_timeout ${n() % 300};`,
      ])(),
    ),
    json: make(3000, () =>
      rng.pick([
        () => `  "${w()}_${n()}": "${w()} ${w()} ${n()}"`,
        () => `  "${w()}_${w()}_${n()}": ${n()}`,
        () => `  "${w()}_${n()}": ${rng.next() < 0.5}`,
        () => `  "peer_${n()}": "${ip()}"`,
      ])(),
    ),
    txt: make(3000, () =>
      rng.pick([
        () => `${w()} ${w()} ${w()} ${w()} ${w()} ${n()} ${w()} ${w()}.`,
        () => `- ${w()} ${w()} moved to ${ip()} (${w()})`,
        () => '',
      ])(),
    ),
  }
}

/** Splits a template into text pieces and sites, filling {A}/{B} with old addresses and {D} with a decoy. */
function fill(template, rng, decoys) {
  const out = []
  let last = 0
  for (const m of template.matchAll(/\{([ABD])\}/g)) {
    out.push(template.slice(last, m.index))
    if (m[1] === 'D') {
      const d = rng.pick(decoys)
      out.push({ orig: d, exp: d })
    } else {
      const h = rng.pick(inventory)
      out.push({ orig: h.old, exp: h.name })
    }
    last = m.index + 3
  }
  out.push(template.slice(last))
  return out
}

function assemble(format, lines) {
  // lines: array of arrays of pieces (strings and sites)
  const pieces = []
  const sep = format === 'json' ? ',\n' : '\n'
  pieces.push(format === 'php' ? '<?php\n' : format === 'json' ? '{\n' : '')
  lines.forEach((l, i) => {
    if (i > 0) pieces.push(sep)
    pieces.push(...l)
  })
  pieces.push(format === 'json' ? '\n}\n' : '\n')
  let orig = ''
  let exp = ''
  const sites = []
  for (const p of pieces) {
    if (typeof p === 'string') {
      orig += p
      exp += p
    } else {
      sites.push([orig.length, p.orig, p.exp])
      orig += p.orig
      exp += p.exp
    }
  }
  return { orig, exp, sites }
}

/**
 * Writes `files` files below `dir` and returns the expected description (also written to
 * `dir/../expected.json`). Deterministic for a given seed.
 */
export function generateFleet(dir, { files = 100000, seed = 9 } = {}) {
  const rng = random(seed)
  const pools = noisePools(rng)
  const decoys = inventory
    .flatMap((h) => decoysOf(h.old))
    .filter((d) => !inventory.some((h) => h.old === d))
  const formats = FORMATS.flatMap(([f, w]) => Array(w).fill(f))
  const expected = {
    seed,
    files,
    bytes: 0,
    hot: 0,
    decoyOnly: 0,
    sites: 0,
    decoySites: 0,
    listed: [],
  }
  const madeDirs = new Set()
  for (let i = 0; i < files; i++) {
    const format = rng.pick(formats)
    const vm = `vm${String(Math.floor(i / 50)).padStart(4, '0')}`
    const path = `${vm}/${DIRS[format]}/${format === 'php' ? 'config' : format === 'conf' ? 'site' : format === 'json' ? 'settings' : format === 'ini' ? 'conf' : 'notes'}-${i % 50}.${format}`
    const target = 1024 + Math.floor(19456 * rng.next() ** 1.7)
    const roll = rng.next()
    const hot = roll < 0.02
    const decoyOnly = !hot && roll < 0.025
    const lines = []
    let size = 0
    while (size < target) {
      const l = rng.pick(pools[format])
      lines.push([l])
      size += l.length + 1
    }
    const inserts = []
    if (hot) {
      const k = 1 + rng.int(3)
      for (let j = 0; j < k; j++) inserts.push(fill(rng.pick(SITES[format]), rng, decoys))
      if (rng.next() < 0.3) inserts.push(fill(rng.pick(DECOYS[format]), rng, decoys))
    } else if (decoyOnly) {
      for (let j = 0; j < 1 + rng.int(2); j++)
        inserts.push(fill(rng.pick(DECOYS[format]), rng, decoys))
    }
    for (const ins of inserts) lines.splice(rng.int(lines.length + 1), 0, ins)
    const { orig, exp, sites } = assemble(format, lines)
    const full = join(dir, path)
    const parent = dirname(full)
    if (!madeDirs.has(parent)) {
      mkdirSync(parent, { recursive: true })
      madeDirs.add(parent)
    }
    writeFileSync(full, orig)
    expected.bytes += orig.length
    if (sites.length) {
      expected.listed.push({ path, sha256: createHash('sha256').update(exp).digest('hex'), sites })
      const changing = sites.filter((s) => s[1] !== s[2]).length
      expected.sites += changing
      expected.decoySites += sites.length - changing
      if (hot) expected.hot++
      else expected.decoyOnly++
    }
  }
  return expected
}

/** The literal needles of the old addresses (for rg -F and the spec). */
export const needles = inventory.map((h) => h.old)
export { literalRe }
