export { FleetError, type FleetErrorCode } from './errors.js'
export type { Exec, ExecResult, Machine, MachineSpec } from './machine.js'
export { localExec } from './local-exec.js'
