import type { Io } from './io.js'

/** Parsed options of a command. */
export type Opts = Record<string, string | string[] | boolean | undefined>
/** A command: options, arguments, io → exit code. */
export type Command = (opts: Opts, args: string[], io: Io) => Promise<number>
