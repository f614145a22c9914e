export { addressFamily, sameAddress, type AddressFamily } from './address.js'
export { ensureHost, removeHost, renameHost, type EnsureOptions } from './edit.js'
export {
  lineAt,
  lineOf,
  parseHosts,
  printHosts,
  spanText,
  type HostsDocument,
  type HostsLine,
  type Span,
} from './parse.js'
export { KINDS, type LineKind, type LineTable } from './table.js'
export {
  DEFAULT_MARKER,
  planHosts,
  type EnsureRequest,
  type HostsIntent,
  type HostsPlan,
} from './plan.js'
export type { Rewrite } from './model.js'
export { eachNamed, hostConflicts, lookupHost, resolveHost, type HostsMatch } from './resolve.js'
export { hostsStep, type HostsOptions } from './step.js'
export { HostsError, type HostsErrorCode } from './errors.js'
