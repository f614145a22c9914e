#!/usr/bin/env node
// Writes test/file-times.json (or OUT), the seconds each test file took, from the JSON report of
// a full run (`vitest run --reporter=json --outputFile.json=REPORT`, as .ci/run makes it):
//
//   node scripts/file-times.mjs REPORT "how it was measured" [OUT]
//
// The suite's sequencer (test/file-order.ts) starts the long files first by these times.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const repo = join(import.meta.dirname, '..')
const [report, how, out = join(repo, 'test/file-times.json')] = process.argv.slice(2)
if (!report || !how) {
  console.error('usage: node scripts/file-times.mjs REPORT "how it was measured" [OUT]')
  process.exit(1)
}
/**
 * The repository's part of a path of the report, which is absolute, from wherever the run was:
 * its longest tail that is a file here (the checkout's own path may hold `test/` or `packages/`).
 */
function inRepo(name) {
  for (let at = name.indexOf('/'); at >= 0; at = name.indexOf('/', at + 1))
    if (existsSync(join(repo, name.slice(at + 1)))) return name.slice(at + 1)
  return undefined
}
const { testResults } = JSON.parse(readFileSync(report, 'utf8'))
const seconds = {}
for (const t of testResults) {
  const path = inRepo(t.name)
  if (path) seconds[path] = Math.round((t.endTime - t.startTime) / 100) / 10
}
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)))
writeFileSync(out, `${JSON.stringify({ how, seconds: sorted }, null, 2)}\n`)
console.log(`${out}: ${Object.keys(sorted).length} files`)
