import type { Exec } from './machine.js'
import { commandError, run } from './remote-shell.js'

/**
 * What a machine's file systems ask of it once per connection: the user cutover runs as there,
 * whether it has getfattr and setfattr, and whether it has what the backup pack's copy runs. One
 * command answers all three, asked when the first of them is wanted; the target and the state
 * file system of one connection share it (each used to ask its own, one command a question).
 */
export interface MachineFacts {
  /** `id -u` and `id -g`; rejects (naming the machine) when `id` fails. */
  identity(): Promise<{ uid: number; gid: number }>
  /** Whether both getfattr and setfattr are on the PATH. */
  xattrTools(): Promise<boolean>
  /** Whether stat, cat, tail, head and sha256sum are all on the PATH. */
  packTools(): Promise<boolean>
}

/**
 * The probe: one line per fact, each ending in a word the parser checks, so that an answer cut
 * short reads as a failure, never as a fact.
 */
export const FACTS_SCRIPT = [
  'if u=$(id -u) && g=$(id -g); then echo "id $u $g"; else echo "id -"; fi',
  'if command -v getfattr >/dev/null 2>&1 && command -v setfattr >/dev/null 2>&1; then echo "xattr yes"; else echo "xattr no"; fi',
  'p=yes; for c in stat cat tail head sha256sum; do command -v "$c" >/dev/null 2>&1 || p=no; done; echo "pack $p"',
  'echo end',
].join('\n')

/** The facts of the machine `exec` runs on, probed by one command on first use. */
export function machineFacts(exec: Exec, label: string): MachineFacts {
  let probed:
    | Promise<{ id?: { uid: number; gid: number }; stderr: string; xattr: boolean; pack: boolean }>
    | undefined
  const probe = () =>
    (probed ??= run(exec, FACTS_SCRIPT).then((r) => {
      const m = /^id (?:(\d+) (\d+)|-)\nxattr (yes|no)\npack (yes|no)\nend\n$/.exec(
        r.stdout.toString('utf8'),
      )
      if (r.code !== 0 || !m)
        throw commandError(label, 'the probe of id, getfattr and sha256sum', r)
      return {
        ...(m[1] !== undefined ? { id: { uid: Number(m[1]), gid: Number(m[2]) } } : {}),
        stderr: r.stderr,
        xattr: m[3] === 'yes',
        pack: m[4] === 'yes',
      }
    }))
  return {
    identity: async () => {
      const f = await probe()
      if (!f.id)
        throw commandError(label, 'id', { code: 1, stdout: Buffer.alloc(0), stderr: f.stderr })
      return f.id
    },
    xattrTools: async () => (await probe()).xattr,
    packTools: async () => (await probe()).pack,
  }
}
