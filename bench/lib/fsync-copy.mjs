// The floor for apply: copies each listed file beside itself (`<file>.bench-copy`) and fsyncs
// every copy, one after another, the way a careful script would.
//   node fsync-copy.mjs LIST ROOT      (LIST: one path relative to ROOT per line)
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'

const [list, root] = process.argv.slice(2)
for (const path of readFileSync(list, 'utf8').split('\n').filter(Boolean)) {
  const bytes = readFileSync(join(root, path))
  const fd = openSync(join(root, path) + '.bench-copy', 'w', 0o644)
  writeSync(fd, bytes)
  fsyncSync(fd)
  closeSync(fd)
}
