import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/hosts: a change here is a change of the package's API (and needs a changeset).
const NAMES = [
  'DEFAULT_MARKER',
  'HostsError',
  'KINDS',
  'addressFamily',
  'eachNamed',
  'ensureHost',
  'hostConflicts',
  'hostsStep',
  'lineAt',
  'lineOf',
  'lookupHost',
  'parseHosts',
  'planHosts',
  'printHosts',
  'removeHost',
  'renameHost',
  'resolveHost',
  'sameAddress',
  'spanText',
]

describe('the public API of @cutover/hosts', () => {
  it('exports exactly these names', async () => {
    expect(Object.keys(await import('@cutover/hosts')).sort()).toEqual(NAMES)
  })

  it('documents every export with TSDoc and lists every name in the README', () => {
    expect(undocumentedExports('hosts')).toEqual([])
    expect(unlistedInReadme('hosts', NAMES)).toEqual([])
  })
})
