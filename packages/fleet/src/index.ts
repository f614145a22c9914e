export { FleetError, type FleetErrorCode } from './errors.js'
export type { Exec, ExecResult, Machine, MachineSpec } from './machine.js'
export { localExec } from './local-exec.js'
export {
  controllerOf,
  decisionOf,
  fleetJournalPath,
  newFleetTxid,
  readFleetJournals,
  unfinished,
  withControllerLock,
  writeFleetJournal,
  type FleetJournal,
  type FleetJournalMachine,
  type FleetState,
} from './fleet-journal.js'
export {
  SFTP_OPEN,
  SftpClient,
  SftpError,
  type SftpAttrs,
  type SftpEntry,
  type SftpErrorCode,
  type SftpHandle,
} from './sftp/index.js'
export {
  mirrorDir,
  mirrorMachine,
  removeMirror,
  removeMirrors,
  removeMirrorSync,
  staticPrefix,
  type Mirror,
  type MirrorNeeds,
  type MirrorOptions,
} from './mirror.js'
export {
  applyFleet,
  listFleet,
  listMachine,
  machineStateDir,
  recoverFleet,
  rollbackFleet,
  type FleetApplyOptions,
  type FleetEvent,
  type FleetOptions,
  type FleetRecoverReport,
  type FleetResult,
  type FleetRollbackOptions,
  type FleetRollbackResult,
  type MachineOutcome,
} from './coordinator.js'
export { localMachine } from './local-machine.js'
export { checkMachine, type CheckRow, type MachineChecks } from './check-machine.js'
export { INVENTORY_PACKAGE, inventoryMachines, readInventory, type Inventory } from './inventory.js'
export { machineFacts, type MachineFacts } from './machine-facts.js'
export { remoteFileSystem, type RemoteFileSystem } from './remote-fs.js'
export { remoteChecks } from './checks.js'
export { openMachine, type OpenOptions } from './open.js'
export { removeSocketDirSync, socketDir } from './ssh/socket-dir.js'
export { remoteStateFileSystem, type RemoteStateFileSystem } from './remote-state.js'
export { exchangeId, planWhole, type WholePlan, type WholePlanInput } from './whole-plan.js'
