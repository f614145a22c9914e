// Generates an /etc/hosts of `lines` lines: comments, blank lines, IPv4 and IPv6 entries with
// aliases, and half of the inventory's names at their old addresses (the rest missing).
import { writeFileSync } from 'node:fs'
import { inventory } from './inventory.mjs'
import { random } from './rand.mjs'

/** Writes the hosts file; returns which inventory names it holds. */
export function generateHosts(path, { lines = 200000, seed = 5 } = {}) {
  const rng = random(seed)
  const out = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', '']
  const present = inventory.filter((_, i) => i % 2 === 0)
  const at = new Set(present.map(() => rng.int(lines)))
  const queue = [...present]
  for (let i = out.length; i < lines; i++) {
    if (at.has(i) && queue.length) {
      const h = queue.shift()
      out.push(`${h.old}\t${h.name} ${h.name.split('.')[0]}`)
      continue
    }
    const r = rng.next()
    if (r < 0.05) out.push(`# rack ${rng.int(400)} row ${rng.int(40)}`)
    else if (r < 0.07) out.push('')
    else if (r < 0.1)
      out.push(
        `fd00:${rng.int(65536).toString(16)}::${rng.int(65536).toString(16)}\tv6-${i}.corp.example.net`,
      )
    else
      out.push(
        `172.${16 + rng.int(16)}.${rng.int(256)}.${1 + rng.int(254)}\thost-${i}.corp.example.net host-${i}${rng.next() < 0.3 ? ` h${i}` : ''}`,
      )
  }
  for (const h of queue) out.push(`${h.old}\t${h.name}`)
  writeFileSync(path, out.join('\n') + '\n')
  return { lines, present: present.map((h) => h.name) }
}

/** For each inventory name, the addresses the hosts text gives it: right when exactly {new}. */
export function checkHosts(text) {
  const byName = new Map(inventory.map((h) => [h.name, new Set()]))
  for (const line of text.split('\n')) {
    const body = line.replace(/#.*/, '').trim()
    if (!body) continue
    const [addr, ...names] = body.split(/\s+/)
    for (const n of names) byName.get(n)?.add(addr)
  }
  let ok = 0
  let missed = 0
  let wrong = 0
  for (const h of inventory) {
    const a = byName.get(h.name)
    if (!a.has(h.new)) missed++
    else if (a.size === 1) ok++
    if ([...a].some((x) => x !== h.new)) wrong++
  }
  return { expected: inventory.length, ok, missed, wrong }
}
