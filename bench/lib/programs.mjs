// What a sysadmin would write instead: a boundary-aware perl substitution and a naive sed script.
import { inventory } from './inventory.mjs'

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const byLength = [...inventory].sort((a, b) => b.old.length - a.old.length)

/** perl -p program: old addresses (not inside a longer number or dotted quad) become names; routing keys get .test. */
export function perlProgram({ variants = false } = {}) {
  const map = inventory.map((h) => `'${h.old}' => '${h.name}'`).join(', ')
  const keys = variants ? 's/(?<![\\w.-])(oas\\.staff|oas\\.projects)(?![\\w.-])/$1.test/g;\n' : ''
  return `BEGIN { %h = (${map}) }\ns/(?<![\\d.])(${byLength.map((h) => esc(h.old)).join('|')})(?!\\d|\\.\\d)/$h{$1}/g;\n${keys}`
}

/** sed script as typed in a hurry: dots unescaped, no boundaries, one host after another. */
export function sedProgram({ variants = false } = {}) {
  const keys = variants ? 's/oas.staff/oas.staff.test/g\ns/oas.projects/oas.projects.test/g\n' : ''
  return inventory.map((h) => `s/${h.old}/${h.name}/g\n`).join('') + keys
}
