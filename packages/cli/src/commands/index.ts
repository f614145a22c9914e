import type { Command, Opts } from '../command.js'
import { EXIT } from '../exit.js'
import type { Io } from '../io.js'
import { describeError, visible } from '../output/errors.js'

// Each command's module is imported when it runs, so that a command loads only what it uses.
const commands: Record<string, () => Promise<Command>> = {
  plan: async () => (await import('./plan.js')).plan,
  apply: async () => (await import('./apply.js')).apply,
  verify: async () => (await import('./verify.js')).verify,
  check: async () => (await import('./check.js')).check,
  recover: async () => (await import('./recover.js')).recover,
  rollback: async () => (await import('./rollback.js')).rollback,
  state: async () => (await import('./state.js')).state,
  init: async () => (await import('./init.js')).init,
  schema: async () => (await import('./schema.js')).schema,
  show: async () => (await import('./show.js')).show,
}

/**
 * Runs the command `name` and resolves to its exit code. An error it throws is printed for
 * people (see `describeError`) and exits 1.
 */
export async function runCommand(
  name: string,
  opts: Opts,
  args: string[],
  io: Io,
): Promise<number> {
  const command = await commands[name]!()
  try {
    return await command(opts, args, io)
  } catch (e) {
    io.stderr.write(visible(describeError(e, io)) + '\n')
    return EXIT.error
  }
}
