export { run, EXIT } from './run.js'
export { memoryIo, type Io } from './io.js'
export { stepKinds } from './steps.js'
export { cliSpecSchema } from './schema.js'
