import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/zone: a change here is a change of the package's API (and needs a changeset).
const NAMES = [
  'ZoneError',
  'absoluteName',
  'entryAt',
  'isClass',
  'isTtl',
  'parseZone',
  'printZone',
  'recordType',
  'spanText',
  'ttlSeconds',
]

describe('the public API of @cutover/zone', () => {
  it('exports exactly these names', async () => {
    expect(Object.keys(await import('@cutover/zone')).sort()).toEqual(NAMES)
  })

  it('documents every export with TSDoc and lists every name in the README', () => {
    expect(undocumentedExports('zone')).toEqual([])
    expect(unlistedInReadme('zone', NAMES)).toEqual([])
  })
})
