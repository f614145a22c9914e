// ESLint (flat config): `pnpm lint`. Syntax-level typescript-eslint rules (no type information,
// so a run stays fast), an import-cycle check that counts type-only and dynamic imports too, and the
// boundaries between the packages (issue 16: "handler packages never import each other;
// libraries never import cli").
import js from '@eslint/js'
import tseslint from 'typescript-eslint'
import globals from 'globals'
import cutover from './scripts/eslint-plugin-cutover.js'

const HANDLERS = ['formats', 'hosts', 'sudoers', 'sqlfn', 'zone']

/** `no-restricted-imports` patterns that keep a package out of the named packages, by name or by a relative path. */
const keepOut = (packages, message) => ({
  patterns: packages.map((name) => ({
    regex: `^(@cutover/${name}(/.*)?|(\\.\\./)+(packages/)?${name}/.*)$`,
    message,
  })),
})

/**
 * What the transaction folder may not import: what the engine may not (handlers, the CLI), and
 * anything of plan/, step/ or spec/. Two blocks below use it: a later block replaces an earlier
 * one's options for the files it names, so each lists every pattern.
 */
const TRANSACTION_PATTERNS = [
  ...keepOut(
    [...HANDLERS, 'cli', 'fleet', 'review'],
    'the engine (@cutover/rewrite) imports no handler package, not the CLI, the fleet or the review',
  ).patterns,
  {
    regex: '^\\.\\./(plan|step|spec)(/.*)?$',
    message:
      'the transaction imports nothing of plan/, step/ or spec/: take it as a callback (transaction/participant.ts)',
  },
]

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      'examples/**',
      'docs/**',
      '**/fixtures/**',
      'test/corpus/**',
    ],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,mts,js,mjs}'],
    languageOptions: { globals: { ...globals.node } },
    plugins: { cutover },
    rules: {
      // No circular import, type-only or not (issue 16, Acceptance); see scripts/eslint-plugin-cutover.js.
      'cutover/no-cycle': 'error',
      // The 12 `any`s are `StepKind<any>` / `DatabaseTarget<any>` of the step-kind registries (kinds
      // with different option types in one list; `unknown` does not type-check there). They go
      // with the one step-kind registry of issue 16 (point 5), not with a lint change.
      '@typescript-eslint/no-explicit-any': 'off',
      // Two spaces in a regular expression that matches aligned output read better than ` {2}`.
      'no-regex-spaces': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'none',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  // Tests assert on raw terminal output: control characters in their patterns are the point.
  {
    files: ['**/test/**'],
    rules: { 'no-control-regex': 'off' },
  },
  // Boundaries. The engine (@cutover/rewrite) knows no handler and no CLI.
  {
    files: ['packages/rewrite/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        keepOut(
          [...HANDLERS, 'cli', 'fleet', 'review'],
          'the engine (@cutover/rewrite) imports no handler package, not the CLI, the fleet or the review',
        ),
      ],
    },
  },
  // The transaction knows no planning, step or spec: it takes what it needs from them as
  // callbacks of its own interfaces (transaction/participant.ts). This block replaces the
  // engine's options for those files, so it repeats them.
  {
    files: ['packages/rewrite/src/transaction/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [...TRANSACTION_PATTERNS],
        },
      ],
    },
  },
  // The transaction's protocol reaches its targets only through its file system
  // (transaction/file-system.ts, the local one in fs/local.ts), and its state directory (journal,
  // lock, backups) only through the state directory's (transaction/state-file-system.ts, the
  // local one in fs/local-state.ts), so that another machine's can take their place. This block
  // replaces the one above for these files, so it repeats its patterns.
  {
    files: [
      'packages/rewrite/src/transaction/transaction.ts',
      'packages/rewrite/src/transaction/file-system.ts',
      'packages/rewrite/src/transaction/state-file-system.ts',
      'packages/rewrite/src/transaction/journal.ts',
      'packages/rewrite/src/transaction/lock.ts',
      'packages/rewrite/src/transaction/backup.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...TRANSACTION_PATTERNS,
            {
              regex: '^(node:)?fs(/promises)?$|^\\.\\./fs/(dir-pin|xattr|durable)\\.js$',
              message:
                'the transaction reaches its targets only through its TxFileSystem (options.fileSystem), and its state directory only through its StateFileSystem (options.stateFileSystem)',
            },
          ],
        },
      ],
    },
  },
  // A handler package imports no other handler package and not the CLI.
  ...HANDLERS.map((self) => ({
    files: [`packages/${self}/src/**`],
    rules: {
      'no-restricted-imports': [
        'error',
        keepOut(
          [...HANDLERS.filter((h) => h !== self), 'cli', 'fleet', 'review'],
          'a handler package imports no other handler package (nor the CLI, the fleet or the review): share through @cutover/rewrite',
        ),
      ],
    },
  })),
  // The fleet (machines, OpenSSH, SFTP, the two-phase coordinator) knows no format and not the CLI.
  {
    files: ['packages/fleet/src/**', 'packages/fleet/test/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        keepOut(
          [...HANDLERS, 'cli', 'review'],
          'the fleet knows no format, not the CLI and not the review: take what it needs as callbacks or data',
        ),
      ],
    },
  },
  // The review renders a plan document: it knows no format, no machine and not the CLI (which
  // gives it the document and the plan's hash). Its tests make real plans with the engine and a
  // format that writes secrets (@cutover/formats), never through the CLI.
  {
    files: ['packages/review/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        keepOut(
          [...HANDLERS, 'cli', 'fleet'],
          'the review renders a plan document: it imports no handler package, not the fleet and not the CLI',
        ),
      ],
    },
  },
  {
    files: ['packages/review/test/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        keepOut(
          [...HANDLERS.filter((h) => h !== 'formats'), 'cli', 'fleet'],
          'a review test plans with the engine and @cutover/formats: put a test of the command in packages/cli/test',
        ),
      ],
    },
  },
  // Each library tests itself, through its own API: its tests import no other handler package
  // and not the CLI. Tests that drive the `cutover` command live in packages/cli/test.
  {
    files: ['packages/rewrite/test/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        keepOut(
          ['cli'],
          'a library test does not drive the CLI: put a test of the command in packages/cli/test',
        ),
      ],
    },
  },
  ...HANDLERS.map((self) => ({
    files: [`packages/${self}/test/**`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...keepOut(
              HANDLERS.filter((h) => h !== self),
              'a handler package imports no other handler package: share through @cutover/rewrite',
            ).patterns,
            ...keepOut(
              ['cli'],
              'a library test does not drive the CLI: put a test of the command in packages/cli/test',
            ).patterns,
          ],
        },
      ],
    },
  })),
)
