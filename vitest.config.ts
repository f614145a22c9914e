import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig, type Plugin } from 'vitest/config'
import { LongestFirst } from './test/file-order.js'

// The suite in five projects. `unit` and `cli` are the fast ones (`pnpm test:fast`); `ssh`,
// `browser` and `slow` run in the full suite only (`pnpm test`).
//
// Test files run in parallel: each starts its own machines on free ports, in directories of its
// own (mkdtemp), so files are independent of one another. The fast projects share each worker's
// module graph between files (`isolate: false`: about a third less CPU, mostly imports); no file
// of theirs mocks modules or stubs globals, each puts back the environment variables it sets,
// and one that asserts what a module has loaded imports it afresh (`vi.resetModules`).

/** Files that start real sshd machines (`@cutover/test-kit/sshd`). */
const SSH = [
  'packages/cli/test/fleet/apply.test.ts',
  'packages/cli/test/fleet/check-ssh.test.ts',
  'packages/cli/test/fleet/copy-apply.test.ts',
  'packages/cli/test/fleet/copy-plan-ssh.test.ts',
  'packages/cli/test/fleet/database.test.ts',
  'packages/cli/test/fleet/examples-finance-check.test.ts',
  'packages/cli/test/fleet/examples-mentat.test.ts',
  'packages/cli/test/fleet/examples-ssh.test.ts',
  'packages/cli/test/fleet/hidden.test.ts',
  'packages/cli/test/fleet/hostkey.test.ts',
  'packages/cli/test/fleet/plan-ssh.test.ts',
  'packages/cli/test/fleet/recover.test.ts',
  'packages/cli/test/fleet/secrets.test.ts',
  'packages/cli/test/fleet/sockets.test.ts',
  'packages/cli/test/review/expect-fleet.test.ts',
  'packages/cli/test/validate/ssh.test.ts',
  'packages/fleet/test/mirror-ssh.test.ts',
  'packages/fleet/test/remote-tx-sshd.test.ts',
  'packages/fleet/test/ssh-checks.test.ts',
  'packages/fleet/test/ssh-connect.test.ts',
  'packages/fleet/test/ssh-kit.test.ts',
  'packages/fleet/test/ssh-open.test.ts',
  'packages/fleet/test/ssh-shell.test.ts',
]

/** Files that drive headless Chromium (`@cutover/test-kit/chromium`); the first two over sshd too. */
const BROWSER = [
  'packages/cli/test/review/accept-finance.test.ts',
  'packages/cli/test/review/accept-mentat.test.ts',
  'packages/review/test/html.test.ts',
  'test/chromium.test.ts',
]

/**
 * Files of several seconds each without sshd or Chromium: the crash matrix, packing and a fresh
 * clone, the examples and acceptance runs, the live databases.
 */
const SLOW = [
  'test/crash.test.ts',
  'test/examples.test.ts',
  'test/fresh-clone.test.ts',
  'test/pack.test.ts',
  'test/sensitive.test.ts',
  'test/live-pg.test.ts',
  'packages/sqlfn/test/live*.test.ts',
  'packages/cli/test/sqlfn/live*.test.ts',
]

/**
 * Files of the fast projects' kind (no sshd, Chromium or database) that take 3 s or more each
 * (CPU of the file's tests and the processes they start): whole acceptance runs, reviews,
 * transactions killed and recovered, a tool run per case (ansible-inventory, php -l), long
 * property and corpus runs. They keep `pnpm test:fast` short and run in the full suite.
 */
const LONG = [
  // 3.0-5.5 s each in a quiet run of the fast projects (2026-12-05 17:55, 1,166 tests: 61-63 s)
  'packages/cli/test/cli.test.ts',
  'packages/cli/test/confine.test.ts',
  'packages/cli/test/epipe.test.ts',
  'packages/cli/test/fleet/copy-recover.test.ts',
  'packages/cli/test/review/lazy.test.ts',
  'packages/cli/test/sqlfn/meaning.test.ts',
  'packages/cli/test/ux.test.ts',
  'packages/fleet/test/checks-batch.test.ts',
  'packages/fleet/test/coordinator-whole.test.ts',
  'packages/fleet/test/remote-state.test.ts',
  'packages/rewrite/test/discover.test.ts',
  'packages/rewrite/test/tx-two-phase.test.ts',
  'packages/cli/test/bundle.test.ts',
  'packages/cli/test/edit-property.test.ts',
  'packages/cli/test/fleet/check-local.test.ts',
  'packages/cli/test/fleet/copy-plan.test.ts',
  'packages/cli/test/fleet/inventory.test.ts',
  'packages/cli/test/fleet/local.test.ts',
  'packages/cli/test/fleet/plan.test.ts',
  'packages/cli/test/heap-growth.test.ts',
  'packages/cli/test/launcher.test.ts',
  'packages/cli/test/reip/networks.test.ts',
  'packages/cli/test/review/accept-expect.test.ts',
  'packages/cli/test/review/accept-large.test.ts',
  'packages/cli/test/review/expect.test.ts',
  'packages/cli/test/review/formats.test.ts',
  'packages/cli/test/review/show.test.ts',
  'packages/cli/test/sqlfn/escaped-needles.test.ts',
  'packages/cli/test/validate/apply.test.ts',
  'packages/cli/test/zone/acceptance.test.ts',
  'packages/fleet/test/coordinator.test.ts',
  'packages/fleet/test/inventory.test.ts',
  'packages/fleet/test/remote-fs.test.ts',
  'packages/fleet/test/shell.test.ts',
  'packages/formats/test/php-lint-batch.test.ts',
  'packages/formats/test/yaml-corpus.test.ts',
  'packages/formats/test/yaml-property.test.ts',
  'packages/review/test/markdown.test.ts',
  'packages/rewrite/test/big-text.test.ts',
  'packages/rewrite/test/large-spec.test.ts',
  'packages/rewrite/test/transaction.test.ts',
  'packages/rewrite/test/tx-security.test.ts',
  'packages/rewrite/test/tx-whole.test.ts',
  'packages/sqlfn/test/acceptance.test.ts',
  'packages/sqlfn/test/meaning.test.ts',
  'packages/sqlfn/test/scan.test.ts',
  'packages/zone/test/meaning.test.ts',
  'test/confirm-tty.test.ts',
  'test/e2e.test.ts',
  'test/pglite-image.test.ts',
  // vi.mock('yaml') counts the parses: a file of its own module graph (a fast project shares one)
  'packages/cli/test/spec-once.test.ts',
  'test/swap-once.test.ts',
]

const HEAVY = [...SSH, ...BROWSER, ...SLOW, ...LONG]

/**
 * The check that the run left nothing in the temporary places (test/temp-left.test.ts): its
 * globalSetup lists their entries before any file runs, its one test compares after all of them
 * (a later `groupOrder`). Under CI=true, where the suite runs alone (another process writing to
 * /tmp meanwhile would show too), or with CUTOVER_TEMP_CHECK=1.
 */
const TEMP_CHECK = process.env.CI === 'true' || process.env.CUTOVER_TEMP_CHECK === '1'
const TEMP_LEFT = 'test/temp-left.test.ts'

/**
 * A test of the heavy projects runs its CLI many times while two other files keep the cores busy:
 * examples/finance took 9 s alone and 72 s in a parallel run on a loaded 2-core machine. Their
 * tests and hooks get as long as the sshd tests give themselves (SSH_TEST_MS).
 */
const HEAVY_TIMEOUTS = { testTimeout: 240_000, hookTimeout: 240_000 }

/**
 * The fast projects keep vitest's transforms of their TypeScript (tests and the sources they
 * import) in node_modules/.experimental-vitest-cache between runs, keyed by each file's content,
 * the config, vitest's version and the workspace's package.json files (manifestsKey below), and
 * dropped when the lockfile changes: 12 files of the cli project took 25.7 s of CPU without it
 * and 22.5 s with it warm (transform 12.8 s -> 3.6 s).
 */
const FS_CACHE = { experimental: { fsModuleCache: true } }

/**
 * The package.json of the root and of every package under `root`, as one hash. A transform
 * kept by fsModuleCache holds the paths its imports resolved to (`@cutover/rewrite` as
 * `/packages/rewrite/dist/index.js`) but is keyed by the importer's content only, so a changed
 * `exports` (or `main`, `imports`) of a workspace package would leave an unchanged test
 * importing the file it used to name, stale or gone; the lockfile does not change with it.
 */
export function manifestsKey(root: string): string {
  const hash = createHash('sha256')
  const manifests = [
    'package.json',
    ...readdirSync(join(root, 'packages'), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join('packages', e.name, 'package.json'))
      .sort(),
  ]
  for (const file of manifests) {
    let text = ''
    try {
      text = readFileSync(join(root, file), 'utf8')
    } catch {
      // a directory without a package.json
    }
    hash.update(`${file}\0${text}\0`)
  }
  return hash.digest('hex')
}

/** Adds the manifests' hash to the key of every module fsModuleCache keeps. */
export function manifestsInCacheKey(root: string): Plugin {
  // called once for each project, and the generators are the run's, shared by them all
  const runs = new WeakSet<object>()
  return {
    name: 'cutover:manifests-in-cache-key',
    configureVitest({ vitest, experimental_defineCacheKeyGenerator }) {
      if (runs.has(vitest)) return
      runs.add(vitest)
      const key = manifestsKey(root)
      experimental_defineCacheKeyGenerator(() => key)
    },
  }
}

export default defineConfig({
  plugins: [manifestsInCacheKey(fileURLToPath(new URL('.', import.meta.url)))],
  test: {
    setupFiles: ['./vitest.setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // vitest's default on 2 cores is one worker. The suite waits more than it computes: one
    // worker ran it in 1409 s of wall time, while the whole suite costs about 820 s of CPU
    // (user+sys, children included), so one worker keeps about 0.6 of a core busy, waiting on
    // the sshd, CLI and Chromium processes it starts, their timeouts and fsyncs. Three kept about
    // 1.3 of the two cores busy in CI (≈ 835 s of CPU in 630 s); a fourth is not measured alone
    // yet (bench/README.md, Known limits).
    maxWorkers: 3,
    // the heavy projects' files longest first (test/file-times.json), the fast ones after them
    sequence: { sequencer: LongestFirst },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          isolate: false,
          ...FS_CACHE,
          include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'packages/cli/test/**', ...HEAVY, TEMP_LEFT],
        },
      },
      {
        extends: true,
        test: {
          name: 'cli',
          isolate: false,
          ...FS_CACHE,
          include: ['packages/cli/test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, ...HEAVY],
        },
      },
      { extends: true, test: { name: 'ssh', include: SSH, ...HEAVY_TIMEOUTS } },
      { extends: true, test: { name: 'browser', include: BROWSER, ...HEAVY_TIMEOUTS } },
      { extends: true, test: { name: 'slow', include: [...SLOW, ...LONG], ...HEAVY_TIMEOUTS } },
      ...(TEMP_CHECK
        ? [
            {
              extends: true as const,
              test: {
                name: 'temp',
                include: [TEMP_LEFT],
                globalSetup: ['./test/temp-entries.ts'],
                sequence: { groupOrder: 1 },
              },
            },
          ]
        : []),
    ],
  },
})
