#!/usr/bin/env node
// Writes test/file-times.json, the seconds each test file took, from the JSON report of a full
// run (`vitest run --reporter=json --outputFile.json=REPORT`, as .ci/run makes it):
//
//   node scripts/file-times.mjs REPORT "how it was measured"
//
// The suite's sequencer (test/file-order.ts) starts the long files first by these times.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [report, how] = process.argv.slice(2)
if (!report || !how) {
  console.error('usage: node scripts/file-times.mjs REPORT "how it was measured"')
  process.exit(1)
}
const { testResults } = JSON.parse(readFileSync(report, 'utf8'))
const seconds = {}
for (const t of testResults) {
  // the report's paths are absolute, from wherever the run was: keep the repository's part
  const at = t.name.search(/\/(packages|test)\//)
  if (at < 0) continue
  seconds[t.name.slice(at + 1)] = Math.round((t.endTime - t.startTime) / 100) / 10
}
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)))
const out = join(import.meta.dirname, '../test/file-times.json')
writeFileSync(out, `${JSON.stringify({ how, seconds: sorted }, null, 2)}\n`)
console.log(`${out}: ${Object.keys(sorted).length} files`)
