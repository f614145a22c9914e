import { Command, CommanderError, Option } from 'commander'
import type { Io } from './io.js'
import { EXIT } from './exit.js'

/**
 * Runs the `cutover` command with `argv` (without `node` and the script) against `io`, and
 * resolves to the exit code. Never throws for a user mistake: errors are printed with their
 * `path:line:col`. Heavy modules load only when a command runs.
 */
export async function run(argv: readonly string[], io: Io): Promise<number> {
  let code: number = EXIT.ok
  const program = new Command('cutover')
    .description(
      'Rewrite the configuration of servers for a migration, reviewed as one plan and applied all-or-nothing.',
    )
    .version(await version(), '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run cutover --help for usage)')

  const spec = () => new Option('--spec <file>', 'the migration spec').default('cutover.yaml')
  // commands that need no spec for one root take one to reach the machines of a fleet
  const fleetSpec = () =>
    new Option('--spec <file>', 'the spec whose machines to reach (a spec with machines:)')
  const root = () =>
    new Option(
      '--root <dir>',
      'the root that spec paths are relative to (default: /, or the root of the plan)',
    )
  const profile = () =>
    new Option('--profile <name>', 'the profile to plan for (required when the spec has profiles)')
  const stateDir = () =>
    new Option(
      '--state-dir <dir>',
      'journal, backups and lock (default <root>/var/lib/cutover; with a spec of machines: the controller state, default .cutover beside the spec)',
    )
  const machine = () =>
    new Option(
      '--machine <name>',
      'with a spec of machines: only this machine (repeat for more; default every machine)',
    ).argParser((v: string, prev: string[] | undefined) => [...(prev ?? []), v])
  const sshConfig = () =>
    new Option(
      '--ssh-config <file>',
      'the ssh config for the machines of the spec (ssh -F; default $CUTOVER_SSH_CONFIG, else ssh defaults)',
    )
  const inventory = () =>
    new Option(
      '--inventory <file>',
      "the machines: the hosts of this Ansible inventory (read with ansible-inventory; instead of the spec's machines: { ansible: FILE })",
    )
  const maxFileSize = () =>
    new Option(
      '--max-file-size <size>',
      'refuse files in scope larger than this: bytes, or with K, M, G (default 64M)',
    )
  const maxBytes = () =>
    new Option(
      '--max-bytes <n>',
      "with --format markdown: stay under N bytes (a comment's limit), the largest diffs collapsed first (default 60000)",
    )
  const quiet = () => new Option('-q, --quiet', 'print only what a script needs (no progress line)')
  const verbose = () => new Option('--verbose', 'list every file considered and why it was skipped')
  const action =
    (name: string) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command
      const { runCommand } = await import('./commands/index.js')
      code = await runCommand(name, cmd.opts(), cmd.args, io)
    }

  program
    .command('plan')
    .description('show every change as a unified diff, and what was left over')
    .addOption(spec())
    .addOption(root())
    .addOption(profile())
    .addOption(stateDir())
    .addOption(machine())
    .addOption(sshConfig())
    .addOption(inventory())
    .addOption(maxFileSize())
    .addOption(
      new Option(
        '--format <format>',
        'the terminal review (default), the plan document, a Markdown review for a ticket comment, or one self-contained HTML page',
      ).choices(['text', 'json', 'markdown', 'html']),
    )
    .option(
      '--out <file>',
      'with text or json: save the plan (mode 0600) for `cutover apply PLAN` (text says its hash); with markdown or html: write the review there',
    )
    .option(
      '--save <file>',
      'save the plan (mode 0600) for `cutover apply PLAN`, with any --format',
    )
    .option('--json', 'print the plan document instead of the review (--format json)')
    .addOption(maxBytes())
    .option('--detailed-exitcode', 'exit 2 when there are changes')
    .option(
      '--show-sensitive',
      "show values that look like credentials in the review (never the spec's secrets or the old values they replace; not with --out, --save, --json or --format markdown|html)",
    )
    .addOption(quiet())
    .addOption(verbose())
    .action(action('plan'))
  program
    .command('apply')
    .description(
      'apply a saved plan, or plan and apply after confirmation: all files change or none',
    )
    .argument('[plan]', 'a plan saved with `cutover plan --out` or `--save`')
    .addOption(spec())
    .addOption(root())
    .addOption(profile())
    .addOption(stateDir())
    .addOption(machine())
    .addOption(sshConfig())
    .addOption(inventory())
    .addOption(maxFileSize())
    .option(
      '--check',
      'after the apply commits, run cutover check (exit 1 when a check fails; the apply stays)',
    )
    .option('--yes', 'apply without asking (required without a terminal)')
    .option(
      '--expect <hash>',
      'apply the saved plan only if its file hashes to this (sha256:HEX, as plan printed it)',
    )
    .addOption(quiet())
    .addOption(verbose())
    .action(action('apply'))
  program
    .command('show')
    .description(
      'render a saved plan as a review to share: Markdown for a ticket comment, or one HTML page; with its hash',
    )
    .argument('<plan>', 'a plan saved with `cutover plan --out` or `--save`')
    .addOption(
      new Option('--format <format>', 'markdown (default) or html').choices(['markdown', 'html']),
    )
    .option('--out <file>', 'write the review there (else stdout; html needs it on a terminal)')
    .addOption(maxBytes())
    .addOption(quiet())
    .action(action('show'))
  program
    .command('verify')
    .description('succeed when the plan for the profile is empty')
    .addOption(spec())
    .addOption(root())
    .addOption(profile())
    .addOption(stateDir())
    .addOption(machine())
    .addOption(sshConfig())
    .addOption(inventory())
    .addOption(maxFileSize())
    .option('--strict', 'also fail when there are leftovers')
    .addOption(quiet())
    .addOption(verbose())
    .action(action('verify'))
  program
    .command('check')
    .description(
      "from every machine: each name of the spec's hosts: resolves to its new address there, and its checks: pass",
    )
    .addOption(spec())
    .addOption(root())
    .addOption(
      new Option(
        '--profile <name>',
        'also run the checks: of this profile (a check with profiles: runs only in them)',
      ),
    )
    .addOption(stateDir())
    .addOption(machine())
    .addOption(sshConfig())
    .addOption(inventory())
    .option('--json', 'print the results as JSON')
    .addOption(quiet())
    .action(action('check'))
  program
    .command('init')
    .description(
      'scan a root for addresses and host names and write a starter spec (never overwrites)',
    )
    .addOption(new Option('--spec <file>', 'where to write the spec').default('cutover.yaml'))
    .addOption(new Option('--root <dir>', 'the root to scan (default: /)'))
    .option(
      '--files <glob...>',
      'globs relative to the root to scan (default: etc/**, var/www/**, home/*/**)',
    )
    .option('--exclude <glob...>', 'globs to leave out')
    .option('--print', 'print the spec instead of writing it')
    .addOption(quiet())
    .addOption(verbose())
    .action(action('init'))
  program
    .command('schema')
    .description(
      'print the JSON Schema of cutover.yaml (for editors: # yaml-language-server: $schema=…)',
    )
    .action(action('schema'))
  program
    .command('rollback')
    .description('restore the last applied transaction from its backups, as a new transaction')
    .addOption(fleetSpec())
    .addOption(root())
    .addOption(stateDir())
    .addOption(machine())
    .addOption(sshConfig())
    .option('--yes', 'roll back without asking')
    .option('--force', 'also restore targets that changed since that transaction')
    .action(action('rollback'))
  program
    .command('state')
    .description('list the transactions in the state directory, or prune old finished ones')
    .argument('[action]', '"list" (default) or "prune"')
    .addOption(fleetSpec())
    .addOption(root())
    .addOption(stateDir())
    .addOption(machine())
    .addOption(sshConfig())
    .addOption(inventory())
    .option('--keep <n>', 'with prune: how many finished transactions to keep', '5')
    .action(action('state'))
  program
    .command('recover')
    .description('finish or undo an interrupted apply: every target all-before or all-after')
    .addOption(fleetSpec())
    .addOption(root())
    .addOption(stateDir())
    .addOption(machine())
    .addOption(sshConfig())
    .action(action('recover'))

  try {
    await program.parseAsync([...argv], { from: 'user' })
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ||
        e.code === 'commander.helpDisplayed' ||
        e.code === 'commander.version'
        ? EXIT.ok
        : EXIT.error
    }
    throw e
  }
  return code
}

async function version(): Promise<string> {
  const { readFile } = await import('node:fs/promises')
  const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string
  }
  return pkg.version
}
