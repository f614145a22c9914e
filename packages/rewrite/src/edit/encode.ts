import type { EncodingName } from './edit.js'

/**
 * Encodes a value for the literal it is written into. Encodings apply innermost first:
 * `['conninfo', 'sql']` quotes a libpq conninfo value, then doubles `'` for a SQL literal.
 */
export function encodeValue(value: string, encoding: readonly EncodingName[]): string {
  let out = value
  for (const e of encoding) out = ENCODERS[e](out)
  return out
}

/** True when `name` is an encoding {@link encodeValue} knows (a saved plan's secret encodings are checked with it). */
export function isEncodingName(name: unknown): name is EncodingName {
  return typeof name === 'string' && Object.hasOwn(ENCODERS, name)
}

const ENCODERS: Record<EncodingName, (v: string) => string> = {
  raw: (v) => v,
  'php-single': (v) => v.replace(/[\\']/g, '\\$&'),
  'php-double': (v) =>
    v
      .replace(/[\\"$]/g, '\\$&')
      .replace(/\n/g, '\\n')
      .replace(/\r/g, '\\r')
      .replace(/\t/g, '\\t'),
  'php-heredoc': (v) => v.replace(/[\\$]/g, '\\$&'),
  json: (v) => JSON.stringify(v).slice(1, -1),
  sql: (v) => v.replace(/'/g, "''"),
  'sql-e': (v) => v.replace(/[\\']/g, (c) => (c === "'" ? "''" : '\\\\')),
  conninfo: (v) => (v === '' || /[\s'\\]/.test(v) ? `'${v.replace(/[\\']/g, '\\$&')}'` : v),
  'ini-double': (v) => v.replace(/["\\]/g, '\\$&'),
  'sh-double': (v) => v.replace(/[\\"$`]/g, '\\$&'),
  'js-single': (v) => JSON.stringify(v).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'"),
  'js-double': (v) => JSON.stringify(v).slice(1, -1),
  'js-template': (v) => v.replace(/[\\`]/g, '\\$&').replace(/\$\{/g, '\\${'),
}
