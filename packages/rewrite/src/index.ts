export type { DatabaseApplyContext, DatabaseChange, DatabasePlan, DatabaseTarget } from './database.js'
export { applyEdits, checkEdits, mapOffset, sortEdits, type Edit, type EncodingName } from './edit.js'
export { applyPlanDocument, recoverState, type ApplyOptions, type ApplyResult } from './apply.js'
export { formatDiagnostic, type Diagnostic, type Range } from './diagnostic.js'
export { diffStat, maskedDiff, quotePath, showControls, unifiedDiff, SENSITIVE, type DiffMask } from './diff.js'
export { defaultStateDir } from './confine.js'
export { discoverFiles, type DiscoverOptions, type DiscoverProblem } from './discover.js'
export { encodeValue } from './encode.js'
export { createEngine, type Engine, type FileChange, type Plan, type PlanNote, type PlanOptions, type PlannedLeftover } from './engine.js'
export { CutoverError, EditConflictError, InputError, LockError, SecretError, SpecError, StalePlanError, ValidationError } from './errors.js'
export { leftoverMatcher, scanLeftovers, type LeftoverReason } from './leftovers.js'
export { LineIndex, type Position } from './line-index.js'
export { Matcher, boundaryFor, isIPv4, type Boundary, type Match, type Pattern, type PatternKind } from './match.js'
export { checkPlanDocument, toPlanDocument, type PlanDocChange, type PlanDocEdit, type PlanDocument } from './plan-doc.js'
export * as s from './schema.js'
export type { Infer, JsonSchema, Schema, SchemaContext, SpecRefs } from './schema.js'
export { SecretStore, maskValues, resolveRecordedSecrets, type SecretRecord } from './secrets.js'
export { decodeText, encodeText, isBinary, sha256, type SourceText, type TextEncoding } from './source.js'
export { parseSpec, specJsonSchema, type Spec, type SpecStep } from './spec.js'
export {
  commonKeys,
  leftoverPatterns,
  rulePatterns,
  ruleKeys,
  stepMatcher,
  valueSpec,
  variantPatterns,
  type CommonOptions,
  type Context,
  type InventoryHost,
  type Leftover,
  type RuleBuildOptions,
  type RuleOptions,
  type StepKind,
  type StepResult,
  type Validator,
  type ValidatorItem,
  type ValueSpec,
  type VariantEntry,
} from './step.js'
export { textStep, type TextOptions } from './steps-text.js'
export { commitFiles, readTransaction, recover, strayTemps, type RecoverOptions, type RecoverReport, type TxOptions, type TxParticipant, type TxResult, type TxTarget } from './transaction.js'
export { acquireLock, withLock, type Lock, type LockHolder } from './lock.js'
export { appliedOnce, type AppliedOnce, type OnceApplied, type OnceRecord, type TargetOnce } from './once.js'
export { listTransactions, pruneTransactions, type Journal, type JournalState, type TxMeta, type TxSummary } from './journal.js'
export { faultsFromEnv, type FaultHook } from './fault.js'
export { rollbackLast, type RollbackOptions, type RollbackResult } from './rollback.js'
// config formats: php, ini, json, js (issue 3)
export { literalNeedles, literalRules, rewriteLiterals, setEdits, setSchema, type LiteralRegion, type LiteralRules } from './literal-rules.js'
export { parsePhp, phpEncoding, tokenizePhp, type PhpDocument, type PhpLiteralPart, type PhpQuote, type PhpToken, type PhpUnit } from './php-lex.js'
export { findAssignments, type PhpAssignment, type PhpValue } from './php-set.js'
export { hasPhp, phpLint } from './php-lint.js'
export { phpStep, type PhpOptions } from './steps-php.js'
export { jsonNodeAt, jsonStep, parseJson, type JsonDocument, type JsonOptions } from './steps-json.js'
export { jsStep, parseJs, type JsDocument, type JsOptions } from './steps-js.js'
export { parseIni, type IniDocument, type IniEntry, type IniSpan } from './ini-parse.js'
export { iniStep, type IniOptions } from './steps-ini.js'
// cutover init: scan a root for addresses and names, write a starter spec (issue 10)
export {
  INIT_EXCLUDE,
  INIT_FILES,
  byAddress,
  initFileKind,
  isMigratable,
  scanForInit,
  type InitAddress,
  type InitFile,
  type InitFileKind,
  type InitName,
  type InitPlace,
  type InitScan,
  type InitScanOptions,
} from './init.js'
export { collapsePaths, starterSpec, type StarterSpecOptions } from './init-spec.js'
