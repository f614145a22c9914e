import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto'
import { SecretError } from '../errors.js'

/** A secret as a saved plan records it: where to read it, and a salted scrypt fingerprint. */
export interface SecretRecord {
  name: string
  env: string
  salt: string
  fingerprint: string
}

const SCRYPT = { N: 1 << 14, r: 8, p: 1 } as const

/** Resolves the spec's secrets from an environment, remembering which were used. */
export class SecretStore {
  readonly #defs: Readonly<Record<string, { env: string }>>
  readonly #env: Readonly<Record<string, string | undefined>>
  readonly #used = new Map<string, string>()

  constructor(
    defs: Readonly<Record<string, { env: string }>>,
    env: Readonly<Record<string, string | undefined>>,
  ) {
    this.#defs = defs
    this.#env = env
  }

  /** The value of secret `name`; throws {@link SecretError} naming it (never its value) when unset. */
  get(name: string): string {
    const def = this.#defs[name]
    if (!def) throw new SecretError(`secret "${name}" is not defined in the spec's secrets`)
    const value = this.#env[def.env]
    if (value === undefined || value === '') {
      throw new SecretError(
        `secret "${name}" is not set: export ${def.env} before planning or applying`,
      )
    }
    this.#used.set(name, value)
    return value
  }

  /** Values of every defined secret that the environment holds: each is masked in all output. */
  values(): string[] {
    const out = new Set(this.#used.values())
    for (const def of Object.values(this.#defs)) {
      const v = this.#env[def.env]
      if (v) out.add(v)
    }
    return [...out]
  }

  /**
   * Records of the secrets read so far, for a saved plan (fingerprints, never values), sorted by
   * name: the order in which steps read them follows the order in which parallel reads finish,
   * and two plans of the same tree must list them alike.
   */
  records(): SecretRecord[] {
    const used = [...this.#used.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return used.map(([name, value]) => {
      const salt = randomBytes(16)
      return {
        name,
        env: this.#defs[name]!.env,
        salt: salt.toString('hex'),
        fingerprint: fingerprint(value, salt),
      }
    })
  }
}

function fingerprint(value: string, salt: Buffer): string {
  return scryptSync(value, salt, 32, SCRYPT).toString('hex')
}

/**
 * Reads the secrets a saved plan needs from `env` and checks each against its fingerprint.
 * Throws {@link SecretError} naming the secret when one is missing or differs from plan time.
 */
export function resolveRecordedSecrets(
  records: readonly SecretRecord[],
  env: Readonly<Record<string, string | undefined>>,
): Map<string, string> {
  const out = new Map<string, string>()
  for (const r of records) {
    const value = env[r.env]
    if (value === undefined || value === '')
      throw new SecretError(
        `secret "${r.name}" is not set: export ${r.env} before applying this plan`,
      )
    const expected = Buffer.from(r.fingerprint, 'hex')
    const actual = Buffer.from(fingerprint(value, Buffer.from(r.salt, 'hex')), 'hex')
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) {
      throw new SecretError(
        `secret "${r.name}" (${r.env}) differs from when the plan was made: plan again`,
      )
    }
    out.set(r.name, value)
  }
  return out
}

/** Replaces every occurrence of the given values in `text` by `mask` (longest first). */
export function maskValues(text: string, values: readonly string[], mask = '(sensitive)'): string {
  let out = text
  for (const v of [...values].filter((v) => v.length > 0).sort((a, b) => b.length - a.length))
    out = out.split(v).join(mask)
  return out
}
