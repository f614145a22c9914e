import fc from 'fast-check'
import { afterAll } from 'vitest'
import { removeTempDirs } from '@cutover/test-kit/temp'

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

// Every directory a test file made with `tempDir` (makeTree's too) goes when the file ends: this
// hook is registered before the file's own, so it runs after their afterAll (machines stopped,
// children ended). A directory it cannot remove fails the file.
afterAll(removeTempDirs)
