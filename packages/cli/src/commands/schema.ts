import { specJsonSchema } from '@cutover/rewrite'
import type { Command } from '../command.js'
import { EXIT } from '../exit.js'
import { stepKinds } from '../steps.js'

/**
 * The JSON Schema (draft 2020-12) of `cutover.yaml` for the step kinds this CLI registers,
 * generated from the same definitions the spec validator uses.
 */
export function cliSpecSchema(): Record<string, unknown> {
  return specJsonSchema(stepKinds)
}

/** `cutover schema`: prints the JSON Schema of the spec, as shipped in `schema/cutover.schema.json`. */
export const schema: Command = async (_opts, _args, io) => {
  io.stdout.write(JSON.stringify(cliSpecSchema(), null, 2) + '\n')
  return EXIT.ok
}
