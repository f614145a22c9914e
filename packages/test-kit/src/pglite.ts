import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll } from 'vitest'

type Pg = import('@electric-sql/pglite').PGlite

/**
 * The data directory of a PGlite just initialised, as an uncompressed tar. `new PGlite()` runs
 * initdb in WebAssembly, about 5 s of CPU; starting from this image costs under 1 s, and the
 * database it opens is the one initdb made (the same databases, roles, catalogs and settings).
 * The image is made once per version of PGlite and kept in the temporary directory for the
 * next runs, and once per process in memory.
 */
let image: Promise<Blob> | undefined

function imagePath(): string {
  const require = createRequire(import.meta.url)
  let dir = dirname(require.resolve('@electric-sql/pglite'))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string
        version?: string
      }
      if (pkg.name === '@electric-sql/pglite') {
        const uid = process.getuid?.() ?? 0
        return join(tmpdir(), `cutover-test-pglite-${pkg.version}-${uid}.tar`)
      }
    } catch {
      // no package.json here: look in the parent
    }
    if (dirname(dir) === dir) throw new Error('the package.json of @electric-sql/pglite not found')
    dir = dirname(dir)
  }
}

function readImage(path: string): Blob | undefined {
  try {
    // one of ours (another user's file in a shared temporary directory is not trusted)
    if (statSync(path).uid === (process.getuid?.() ?? 0)) return new Blob([readFileSync(path)])
  } catch {
    // not made yet
  }
  return undefined
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms))

/** Whether the lock names a process that has ended (a worker killed while making the image). */
function holderGone(lock: string): boolean {
  let pid: number
  try {
    pid = Number(readFileSync(lock, 'utf8'))
  } catch {
    return false
  }
  // empty: its maker is writing its pid just now
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return false
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'
  }
}

/**
 * The image from the temporary directory, or made and written there. Test files start at the
 * same time in every worker: one makes it (it holds `<image>.lock`, which names its process), the
 * others wait for it while that process lives and the lock is younger than two minutes.
 */
async function makeImage(path: string): Promise<Blob> {
  const lock = `${path}.lock`
  for (;;) {
    const ready = readImage(path)
    if (ready) return ready
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx', mode: 0o600 })
      break
    } catch {
      let age = 0
      try {
        age = Date.now() - statSync(lock).mtimeMs
      } catch {
        continue // released just now: read the image
      }
      if (age > 120_000 || holderGone(lock)) rmSync(lock, { force: true })
      else await sleep(250)
    }
  }
  try {
    const { PGlite } = await import('@electric-sql/pglite')
    const db = await PGlite.create()
    const blob = await db.dumpDataDir('none')
    await db.close()
    // written beside, made durable and renamed, so that a reader never sees it half written,
    // not even after a crash of the machine
    const temp = `${path}.${randomBytes(6).toString('hex')}`
    try {
      const fd = openSync(temp, 'wx', 0o600)
      try {
        writeFileSync(fd, new Uint8Array(await blob.arrayBuffer()))
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(temp, path)
    } finally {
      rmSync(temp, { force: true })
    }
    return blob
  } finally {
    rmSync(lock, { force: true })
  }
}

/**
 * A new PGlite in process whose database is empty, as initdb left it: started from a copy of an
 * initialised data directory (the image above) rather than running initdb again. An image
 * that fails to load is made again.
 */
export async function newPglite(): Promise<Pg> {
  const { PGlite } = await import('@electric-sql/pglite')
  const path = imagePath()
  image ??= makeImage(path)
  try {
    return await PGlite.create({ loadDataDir: await image })
  } catch {
    rmSync(path, { force: true })
    image = makeImage(path)
    return await PGlite.create({ loadDataDir: await image })
  }
}

/**
 * One in-process PostgreSQL (PGlite) for the tests of a file, started on first use and closed
 * after the last test. The function returned runs `use` inside a transaction that is rolled back
 * after, so each test sees the database empty.
 */
export function inProcessPg(): <T>(use: (db: Pg) => Promise<T>) => Promise<T> {
  let shared: Promise<Pg> | undefined
  afterAll(async () => {
    if (shared) await (await shared).close()
  })
  return async (use) => {
    shared ??= newPglite()
    const db = await shared
    await db.exec('BEGIN')
    try {
      return await use(db)
    } finally {
      await db.exec('ROLLBACK')
    }
  }
}
