export type {
  DatabaseApplyContext,
  DatabaseChange,
  DatabasePlan,
  DatabaseTarget,
} from './step/database.js'
export {
  applyEdits,
  checkEdits,
  mapOffset,
  sortEdits,
  type Edit,
  type EncodingName,
} from './edit/edit.js'
export {
  applyPlanDocument,
  planTargets,
  recoverState,
  type ApplyOptions,
  type RecoverStateOptions,
  type ApplyResult,
} from './apply/apply.js'
export { formatDiagnostic, type Diagnostic, type Range } from './diff/diagnostic.js'
export {
  maskedDiff,
  quotePath,
  shellWord,
  showControls,
  unifiedDiff,
  type DiffMask,
} from './diff/diff.js'
export { defaultStateDir } from './fs/confine.js'
export { maskToolMessage, type ToolMessageMask } from './diff/sensitive.js'
export { writeDurable, type DurableOptions } from './fs/durable.js'
export { encodeValue, encoderOf, type Encoder, type Encoders } from './edit/encode.js'
export { createEngine, type Engine, type PlanNeeds, type PlanOptions } from './plan/engine.js'
export {
  type FileChange,
  type Plan,
  type PlanEvent,
  type PlanNote,
  type PlannedLeftover,
} from './plan/plan.js'
export {
  CutoverError,
  EditConflictError,
  InputError,
  LockError,
  SecretError,
  SpecError,
  StalePlanError,
  ValidationError,
  type ErrorCode,
  type SystemErrorCode,
} from './errors.js'
export {
  leftoverMatcher,
  ruleFallback,
  scanLeftovers,
  type LeftoverReason,
} from './step/leftovers.js'
export { LineIndex, type Position } from './text/line-index.js'
export {
  Matcher,
  isIPv4,
  type Boundary,
  type Match,
  type Pattern,
  type PatternKind,
} from './match/match.js'
export {
  checkAnyPlanDocument,
  checkPlanDocument,
  isFleetPlan,
  machinePlan,
  toFleetPlanDocument,
  toPlanDocument,
  wholeSummary,
  type AnyPlanDocument,
  type FleetPlanDocument,
  type PlanDocChange,
  type PlanDocEdit,
  type PlanDocLeftover,
  type PlanDocMachine,
  type PlanDocNote,
  type PlanDocWhole,
  type PlanDocument,
} from './plan/plan-doc.js'
export { fleetSpecNotes } from './plan/fleet.js'
export * as s from './spec/schema.js'
export type { Infer, JsonSchema, Schema, SchemaContext, SpecRefs } from './spec/schema.js'
export { maskValues, resolveRecordedSecrets, type SecretRecord } from './spec/secrets.js'
export {
  databaseParticipants,
  databaseRecord,
  databaseState,
  type DatabaseOptions,
} from './apply/participants.js'
export {
  decodeText,
  encodeText,
  sha256,
  type SourceText,
  type TextEncoding,
} from './text/source.js'
export { perContext } from './step/per-context.js'
export type { CommandCheck, SpecCheck, TcpCheck } from './spec/checks.js'
export {
  parseSpec,
  resolveMachineRoots,
  specInventoryFile,
  parseSpecDocument,
  specJsonSchema,
  type Spec,
  type SpecCheckOptions,
  type SpecInventory,
  type SpecDocument,
  type SpecMachine,
  type SpecStep,
} from './spec/spec.js'
export {
  editStepsAt,
  isWholeKind,
  markedSensitive,
  wholeTargets,
  type CopyOptions,
  type ExchangeOptions,
  type LocalLocation,
  type MachineLocation,
  type WholeLocation,
  type WholeStep,
} from './spec/whole.js'
export {
  commonKeys,
  onMachines,
  rulePatterns,
  ruleKeys,
  valueSpec,
  variantPatterns,
  type CommonOptions,
  type Context,
  type InventoryHost,
  type NetworkMap,
  type Leftover,
  type RuleBuildOptions,
  type RuleOptions,
  type StepKind,
  type StepResult,
  type Validator,
  type ValidatorItem,
  type ValueSpec,
  type VariantEntry,
  type InitSuggestion,
} from './step/step.js'
export { keyScope, outsideKeysReason, type KeyPath } from './step/keys.js'
export { textStep, type TextOptions } from './step/text.js'
export {
  commandProblem,
  commandUses,
  fillCommand,
  splitCommand,
  type CommandUses,
  type SplitCommand,
} from './step/command.js'
export { VALIDATE_PREFIX, commandValidator } from './step/validate.js'
export type { StagedTool, StagedToolBatch } from './transaction/participant.js'
export {
  askEach,
  commitFiles,
  prepareFiles,
  readTransaction,
  recover,
  type CommitOptions,
  type FleetMark,
  type PrepareOptions,
  type PreparedTx,
  type NewFileMeta,
  type ParticipantRecord,
  type ParticipantState,
  type RecoverOptions,
  type RecoverReport,
  type StagedCheck,
  type PackRange,
  type StateFileSystem,
  type StatePack,
  type StateStat,
  type StagedItem,
  type PinnedDir,
  type TxAnswer,
  type TxEvent,
  type TxFileSystem,
  type TxFileSystemOption,
  type TxObserver,
  type TxOptions,
  type TxParticipant,
  type TxQuery,
  type TxResult,
  type TxOwner,
  type TxStat,
  type TxTarget,
  type TxXattrs,
} from './transaction/transaction.js'
export { localFileSystem } from './fs/local.js'
export { localStateFileSystem } from './fs/local-state.js'
// what another file system (a machine reached over SSH) shares with the local one: the pin
// comparison, the as-root directory check, and the readings of getfattr and mountinfo
export {
  chainOf,
  idName,
  moved as targetMoved,
  pinMismatch,
  writableByOthers,
  type DirOnPath,
} from './fs/dir-pin.js'
export { parseMountinfo } from './fs/local.js'
export { getfattrSaysGone, parseGetfattr } from './fs/xattr.js'
export { acquireLock, withLock, type Lock, type LockHolder } from './transaction/lock.js'
export {
  appliedOnce,
  type AppliedOnce,
  type OnceApplied,
  type OnceRecord,
  type TargetOnce,
} from './plan/once.js'
export {
  ensureStateDir,
  listTransactions,
  pruneTransactions,
  readJournals,
  type Journal,
  type JournalState,
  type TxMeta,
  type TxSummary,
} from './transaction/journal.js'
export { faultsFromEnv, type FaultHook } from './transaction/fault.js'
export {
  lastToRollBack,
  rollbackLast,
  rollbackTargets,
  targetHashNow,
  type RollbackOptions,
  type RollbackResult,
} from './apply/rollback.js'
// building blocks of the step kinds that rewrite inside literals (those of @cutover/formats)
export {
  escapeNeedles,
  literalNeedles,
  literalRules,
  rewriteLiterals,
  setEdits,
  setSchema,
  type LiteralRegion,
  type LiteralRules,
} from './step/literal-rules.js'
export {
  ValueBuilder,
  asWritten,
  firstStartingAt,
  holds,
  mergeLeftovers,
  plainLiteral,
  rewriteValues,
  sourceSpan,
  valueLeftovers,
  type DecodedLiteral,
  type ValueFixer,
} from './step/literal-value.js'
export { describeTimeout, runTool, toolEnv, toolTimeoutMs, type ToolRun } from './fs/tool.js'
// cutover init: scan a root for addresses and names, write a starter spec (issue 10)
export {
  byAddress,
  scanForInit,
  type InitAddress,
  type InitFile,
  type InitNetwork,
  type InitFileKind,
  type InitName,
  type InitPlace,
  type InitScan,
  type InitScanOptions,
} from './init/init.js'
export {
  proposeNetworks,
  starterSpec,
  type ProposedNetwork,
  type StarterSpecOptions,
} from './init/init-spec.js'
