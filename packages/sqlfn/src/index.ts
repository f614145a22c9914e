export { pieceHead, splitSql, type PieceKind, type SqlPiece, type SplitResult } from './split.js'
export { loadLexer, lexSql, type SqlToken } from './lexer.js'
export {
  readLiteral,
  decodeCopyField,
  encodeFor,
  encodingsFor,
  type DecodedValue,
  type Literal,
  type LiteralForm,
} from './literal.js'
export { nameGlobs, readFunction, type QualifiedName, type SqlFunction } from './functions.js'
export {
  compileRules,
  parseConninfo,
  rewriteValue,
  ruleNeedles,
  type ConninfoPair,
  type PasswordOptions,
  type SqlRules,
  type ValueEdit,
} from './rules.js'
export {
  rewriteCopyData,
  rewriteFunction,
  rewriteFunctionDefinition,
  rewriteInsert,
  type Layer,
  type LocatedValue,
  type Rewrite,
} from './rewrite.js'
export { sqlLeftovers, type SqlLeftoverReason } from './leftovers.js'
export { planSql, sqlSplitValidator, sqlStep, type SqlOptions } from './step.js'
export { sqlDatabase } from './live.js'
export { planDatabase, type LiveOptions, type LivePayload, type StoredEdit } from './live-plan.js'
export { liveParticipants, liveState } from './live-apply.js'
export { connectDatabase, databaseOptions, type DatabaseOptions } from './pg-connect.js'
export {
  functionTarget,
  readFunctions,
  readTables,
  type LiveFunction,
  type LiveTable,
} from './pg-read.js'
export { SqlError, type SqlErrorCode } from './errors.js'
