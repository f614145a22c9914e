import { realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'
import { commitFiles, localFileSystem, sha256, type TxFileSystem } from '../src/index.js'

it('the preparation reads the lstat of each target once (where it is, then what it is)', async () => {
  const dir = realpathSync(tempDir('cutover-tx-reads-'))
  const files = ['a.conf', 'b.conf'].map((n) => join(dir, n))
  for (const f of files) writeFileSync(f, 'old\n')
  const lstats = new Map<string, number>()
  const fs: TxFileSystem = {
    ...localFileSystem,
    lstat: (path) => {
      lstats.set(path, (lstats.get(path) ?? 0) + 1)
      return localFileSystem.lstat(path)
    },
  }
  await commitFiles(
    files.map((f) => ({
      target: f,
      path: f,
      exact: true,
      before: sha256('old\n'),
      content: Buffer.from('new\n'),
    })),
    { stateDir: join(dir, 'state'), fileSystem: fs },
  )
  expect(files.map((f) => lstats.get(f))).toEqual([1, 1])
})
