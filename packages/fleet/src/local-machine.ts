import { readFile } from 'node:fs/promises'
import { localFileSystem, localStateFileSystem } from '@cutover/rewrite'
import { localExec } from './local-exec.js'
import type { Machine, MachineSpec } from './machine.js'

/**
 * A machine that is a local directory (a spec without `ssh`): its files, its state directory and
 * its commands are this machine's, under its `root`.
 */
export function localMachine(spec: MachineSpec): Machine {
  return {
    spec,
    label: `${spec.name}:`,
    fileSystem: localFileSystem,
    stateFileSystem: localStateFileSystem,
    exec: localExec,
    readFile: (path) => readFile(path),
    close: async () => undefined,
  }
}
