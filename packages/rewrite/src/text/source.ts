import { createHash } from 'node:crypto'

/** How a file's bytes were decoded; encoding with the same value gives the bytes back. */
export type TextEncoding = 'utf8' | 'utf8-bom' | 'latin1'

/** A decoded file. Offsets of edits index `text` (the BOM, if any, is not part of it). */
export interface SourceText {
  /** Path relative to the root, with `/` separators. */
  path: string
  text: string
  encoding: TextEncoding
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** True when the first 8000 bytes hold a NUL byte: such files are skipped, not rewritten. */
export function isBinary(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 8000)
  for (let i = 0; i < n; i++) if (bytes[i] === 0) return true
  return false
}

/**
 * Decodes file bytes: UTF-8 (with or without BOM) when valid, otherwise latin1 so that every
 * byte maps to one character and comes back unchanged by {@link encodeText}.
 */
export function decodeText(bytes: Uint8Array): { text: string; encoding: TextEncoding } {
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
  try {
    const text = utf8.decode(bom ? bytes.subarray(3) : bytes)
    return { text, encoding: bom ? 'utf8-bom' : 'utf8' }
  } catch {
    return {
      text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'),
      encoding: 'latin1',
    }
  }
}

/**
 * Encodes text back to bytes in the file's encoding. Text that a latin1 file cannot hold
 * (a character above U+00FF) is written as UTF-8 bytes, since no byte of the original is lost.
 */
export function encodeText(text: string, encoding: TextEncoding): Buffer {
  if (encoding === 'latin1') {
    // eslint-disable-next-line no-control-regex
    if (/[^\u0000-\u00ff]/.test(text)) {
      return Buffer.concat(
        Array.from(text, (ch) =>
          ch.charCodeAt(0) > 0xff ? Buffer.from(ch, 'utf8') : Buffer.from(ch, 'latin1'),
        ),
      )
    }
    return Buffer.from(text, 'latin1')
  }
  const body = Buffer.from(text, 'utf8')
  return encoding === 'utf8-bom' ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]) : body
}

/** `sha256:<hex>` of bytes or of a string's UTF-8 bytes. */
export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`
}

/**
 * What plans and journals record of a file: {@link sha256} of its content, or `absent` when there
 * is none (`undefined`: not there, or to be removed).
 */
export function hashOrAbsent(content: Uint8Array | string | undefined): string {
  return content === undefined ? 'absent' : sha256(content)
}
