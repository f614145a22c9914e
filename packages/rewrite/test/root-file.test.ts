import { mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '@cutover/test-kit/temp'
import { RootResolver } from '../src/fs/confine.js'

/** A root with `etc/app/a.conf`, `etc/top.conf`, a link `lnk -> etc/app` and one out of it. */
function root(): string {
  const base = realpathSync(tempDir('cutover-root-file-'))
  const r = join(base, 'root')
  mkdirSync(join(r, 'etc/app'), { recursive: true })
  writeFileSync(join(r, 'etc/app/a.conf'), 'a\n')
  writeFileSync(join(r, 'etc/top.conf'), 't\n')
  symlinkSync('etc/app', join(r, 'lnk'))
  symlinkSync('../..', join(r, 'etc/out'))
  return r
}

describe("RootResolver.fileIn: a file's place, its directory resolved and its last part not read", () => {
  it('is where resolve puts a plain file, in a directory resolved once', () => {
    const r = root()
    const resolver = new RootResolver(r)
    for (const p of ['etc/app/a.conf', 'etc/top.conf', 'etc/app/missing.conf', 'x.conf']) {
      const at = resolver.fileIn(p)
      expect(at).toEqual({ real: join(r, p), rel: p })
      const full = new RootResolver(r).resolve(p, { missingTail: true })!
      expect({ real: full.real, rel: full.rel }).toEqual(at)
    }
  })

  it('follows a link on the way as resolve does (the caller compares rel with the plan)', () => {
    const r = root()
    expect(new RootResolver(r).fileIn('lnk/a.conf')).toEqual({
      real: join(r, 'etc/app/a.conf'),
      rel: 'etc/app/a.conf',
    })
  })

  it('is undefined without the directory or for a last part that is ..; a climb out of the root is refused', () => {
    const r = root()
    const resolver = new RootResolver(r)
    expect(resolver.fileIn('nodir/a.conf')).toBeUndefined()
    expect(resolver.fileIn('etc/..')).toBeUndefined()
    expect(() => resolver.fileIn('etc/out/x.conf')).toThrow(
      expect.objectContaining({ code: 'OUTSIDE_ROOT' }),
    )
  })
})
