import type { Stats } from 'node:fs'
import type { TxStat } from '../transaction/file-system.js'

/** The kind of node a `Stats` of lstat describes (a symlink is not followed). */
export function fileTypeOf(st: Stats): TxStat['type'] {
  if (st.isFile()) return 'file'
  if (st.isDirectory()) return 'directory'
  if (st.isSymbolicLink()) return 'symlink'
  return 'other'
}
