import { access, constants, readFile } from 'node:fs/promises'
import { basename, delimiter, join } from 'node:path'
import { decodeText, runTool, toolTimeoutMs, type ToolRun, type Validator } from '@cutover/rewrite'
import { inZone } from './edit.js'
import { parseZone, recordType, spanText, type ZoneDocument } from './parse.js'

/**
 * The origin a zone file is for, from the file alone: its first `$ORIGIN` before any record,
 * else the owner of its SOA when written absolute, else its file name (`db.example.net` is
 * `example.net.`, `db.10.0.10` is `10.0.10.in-addr.arpa.`, `example.net.zone` is
 * `example.net.`). Undefined when none tells.
 */
export function zoneOrigin(path: string, text: string): string | undefined {
  const doc = parseZone(text)
  for (const e of doc.entries) {
    if (
      e.kind === 'directive' &&
      spanText(doc, e.type!).toUpperCase() === '$ORIGIN' &&
      e.rdata[0]
    ) {
      const o = spanText(doc, e.rdata[0])
      if (o.endsWith('.')) return o
    }
    if (e.kind !== 'record') continue
    if (recordType(doc, e) === 'SOA' && e.owner && spanText(doc, e.owner).endsWith('.'))
      return spanText(doc, e.owner)
    break
  }
  const name = basename(path)
    .replace(/^db\./i, '')
    .replace(/\.(db|zone|hosts)$/i, '')
  if (/^\d{1,3}(\.\d{1,3}){0,3}$/.test(name)) {
    const guess = `${name.split('.').reverse().join('.')}.in-addr.arpa.`
    return ptrsFit(parseZone(text, { origin: guess }), guess) ? guess : undefined
  }
  return name.includes('.') ? `${name.replace(/\.$/, '')}.` : undefined
}

/**
 * True when every PTR of a reverse zone read at `origin` is a whole address (four labels before
 * in-addr.arpa, or more under a classless delegation) inside it. A file name tells the network,
 * not the zone: Ubuntu's guide keeps 1.168.192.in-addr.arpa in db.192, whose `10 PTR` would
 * read as 10.192.in-addr.arpa.
 */
function ptrsFit(doc: ZoneDocument, origin: string): boolean {
  return doc.entries.every(
    (e) =>
      recordType(doc, e) !== 'PTR' ||
      (e.name !== undefined && inZone(e.name, origin) && e.name.split('.').length - 3 >= 4),
  )
}

const found = new Map<string, Promise<string | undefined>>()

/** Where `named-checkzone` is, looked up once per PATH (Debian's bind9-utils puts it in /usr/bin). */
function findChecker(): Promise<string | undefined> {
  const path = process.env.PATH ?? ''
  let f = found.get(path)
  if (!f) found.set(path, (f = lookChecker(path)))
  return f
}

async function lookChecker(path: string): Promise<string | undefined> {
  const dirs = [...path.split(delimiter), '/usr/sbin', '/usr/bin', '/sbin'].filter(Boolean)
  for (const d of dirs) {
    const p = join(d, 'named-checkzone')
    const ok = await access(p, constants.X_OK).then(
      () => true,
      () => false,
    )
    if (ok) return p
  }
  return undefined
}

/** `named-checkzone`'s verdict, naming the target (not the staged file) and the line it reports. */
function verdict(
  run: ToolRun,
  target: string,
  stagedPath: string,
  origin: string,
): string | undefined {
  if (run.timedOut)
    return `zone: named-checkzone did not answer within ${toolTimeoutMs() / 1000} s for ${target} and was stopped (CUTOVER_TOOL_TIMEOUT_MS sets the limit)`
  if (run.code === 0) return undefined
  const text = `${run.stdout}${run.stderr}`.split(stagedPath).join(target).trim()
  return `zone: named-checkzone ${origin} rejects ${target}:\n${text}`
}

/**
 * `named-checkzone ORIGIN STAGED`: BIND's own loader on the staged zone, with the origin the
 * file tells ({@link zoneOrigin}). Its message names the target and the line. Also run by
 * `plan` on the planned text, so that a plan that would break a zone is refused before anything
 * is written.
 */
export const namedCheckzoneValidator: Validator = {
  name: 'named-checkzone',
  plan: true,
  available: async () => (await findChecker()) !== undefined,
  async run(stagedPath, target) {
    const tool = await findChecker()
    if (!tool) return `zone: named-checkzone is not installed, ${target} cannot be checked`
    const { text } = decodeText(await readFile(stagedPath))
    const origin = zoneOrigin(target, text)
    if (!origin)
      return `zone: the origin of ${target} cannot be told from the file (no $ORIGIN, no absolute SOA owner, no zone in its name): write $ORIGIN at its top`
    const run = await runTool(tool, [origin, stagedPath])
    return verdict(run, target, stagedPath, origin)
  },
}
