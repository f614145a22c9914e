export {
  pieceHead,
  splitSql,
  skipBlockComment,
  skipQuoted,
  dollarTag,
  type PieceKind,
  type SqlPiece,
  type SplitResult,
} from './split.js'
export { loadLexer, lexerLoaded, lexSql, type SqlToken } from './lexer.js'
export {
  readLiteral,
  identityValue,
  decodeCopyField,
  encodeCopy,
  encodeFor,
  encodingsFor,
  type DecodedValue,
  type Literal,
  type LiteralForm,
} from './literal.js'
export {
  functionSignature,
  nameAfter,
  nameGlobs,
  readFunction,
  routineName,
  type QualifiedName,
  type SqlFunction,
} from './functions.js'
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
  copyIsCsv,
  functionValues,
  rewriteCopyData,
  rewriteFunction,
  rewriteFunctionDefinition,
  rewriteInsert,
  valueEdits,
  type Layer,
  type LocatedValue,
  type Rewrite,
} from './rewrite.js'
export { sqlLeftovers, type SqlLeftoverReason } from './leftovers.js'
export { planSql, sqlSplitValidator, sqlStep, type SqlOptions } from './step.js'
export { sqlDatabase } from './live.js'
export { planDatabase, type LiveOptions, type LivePayload, type StoredEdit } from './live-plan.js'
export { liveParticipants, liveState } from './live-apply.js'
export {
  connectDatabase,
  databaseOptions,
  describeClient,
  type DatabaseOptions,
} from './pg-connect.js'
export {
  functionTarget,
  readFunctions,
  readTables,
  type LiveFunction,
  type LiveTable,
} from './pg-read.js'
export { SqlError, type SqlErrorCode } from './errors.js'
