export {
  parsePhp,
  phpEncoding,
  tokenizePhp,
  type PhpDocument,
  type PhpLiteralPart,
  type PhpQuote,
  type PhpToken,
  type PhpUnit,
} from './lex.js'
export { findAssignments, type PhpAssignment, type PhpValue } from './set.js'
export { hasPhp, phpLint } from './lint.js'
export { phpStep, type PhpOptions } from './step.js'
