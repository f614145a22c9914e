import type { Command } from '../command.js'
import { runChecks } from '../check.js'

/**
 * `cutover check`: from every machine, over its connection, each name of the spec's `hosts:`
 * must resolve to its new address there, and each of its `checks:` pass; a table (or `--json`),
 * exit 1 on any failure.
 */
export const check: Command = (opts, _args, io) => runChecks(opts, io)
