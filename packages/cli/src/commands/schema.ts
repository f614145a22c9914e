import { specJsonSchema } from '@cutover/rewrite'
import type { Command } from '../command.js'
import { EXIT } from '../exit.js'
import { allStepKinds } from '../kinds.js'

/**
 * `cutover schema`: prints the JSON Schema of the spec, as shipped in `schema/cutover.schema.json`
 * (`cliSpecSchema()`; the step kinds are loaded here, not by a top-level await of `steps.js`,
 * which the bundle's CommonJS chunks cannot hold).
 */
export const schema: Command = async (_opts, _args, io) => {
  io.stdout.write(JSON.stringify(specJsonSchema(await allStepKinds()), null, 2) + '\n')
  return EXIT.ok
}
