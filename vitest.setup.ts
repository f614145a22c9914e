import fc from 'fast-check'

// Property tests explore new random inputs on every local run; CI pins the seed (or takes
// FC_SEED) so that a landing is reproducible. A counterexample found locally becomes a
// regression test of its own (see packages/sudoers/test/continuation.test.ts).
const seed = process.env.FC_SEED ?? (process.env.CI === 'true' ? '20261122' : undefined)
if (seed !== undefined) fc.configureGlobal({ seed: Number(seed) })

// visudo is in /usr/sbin, which is not on a user's PATH on Debian; scripts/test-prereqs.mjs finds
// it there, so the tests (and the tools they spawn) look there too.
const path = (process.env.PATH ?? '').split(':').filter(Boolean)
process.env.PATH = [
  ...path,
  ...['/usr/local/sbin', '/usr/sbin', '/sbin'].filter((d) => !path.includes(d)),
].join(':')
