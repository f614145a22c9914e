/**
 * `s` as one word of a POSIX shell command line: in single quotes, each `'` written `'\''`. A
 * word that is only safe characters stays bare, so that a logged script reads as written.
 */
export function shQuote(s: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s
  return `'${s.replace(/'/g, `'\\''`)}'`
}

/** A command line of `argv`, each word quoted by {@link shQuote}. */
export function shCommand(argv: readonly string[]): string {
  return argv.map(shQuote).join(' ')
}
