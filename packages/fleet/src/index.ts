export type { Exec, ExecResult, Machine, MachineSpec } from './machine.js'
