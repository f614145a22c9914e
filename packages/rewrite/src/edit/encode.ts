import { CutoverError } from '../errors.js'
import type { EncodingName } from './edit.js'

/** Quotes a value for one kind of literal, e.g. doubles `'` for a SQL string. */
export type Encoder = (value: string) => string

/** Encoders by encoding name: what a step kind registers (`StepKind.encodings`). */
export type Encoders = Readonly<Record<EncodingName, Encoder>>

/**
 * Encodes a value for the literal it is written into, with the encoders of `encoders` (and `raw`,
 * the value unchanged). Encodings apply innermost first: `['conninfo', 'sql']` quotes a libpq
 * conninfo value, then doubles `'` for a SQL literal. Throws a {@link CutoverError} (`ENCODING`)
 * naming an encoding no encoder is given for.
 */
export function encodeValue(
  value: string,
  encoding: readonly EncodingName[],
  encoders: Encoders | ((name: EncodingName) => Encoder | undefined),
): string {
  let out = value
  for (const name of encoding) {
    if (name === 'raw') continue
    const encode =
      typeof encoders === 'function'
        ? encoders(name)
        : Object.hasOwn(encoders, name)
          ? encoders[name]
          : undefined
    if (!encode)
      throw new CutoverError(
        'ENCODING',
        `unknown encoding "${name}": no step kind given registers an encoder of that name`,
      )
    out = encode(out)
  }
  return out
}

const raw: Encoder = (value) => value

/**
 * The encoder called `name` among the `encodings` of `kinds` (the step kinds given to an engine or
 * to apply), `raw` included; undefined when none registers it.
 */
export function encoderOf(
  kinds: readonly { encodings?: Encoders }[],
  name: EncodingName,
): Encoder | undefined {
  if (name === 'raw') return raw
  for (const k of kinds)
    if (k.encodings && Object.hasOwn(k.encodings, name)) return k.encodings[name]
  return undefined
}
