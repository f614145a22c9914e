import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/zone: a change here is a change of the package's API (and needs a changeset).
const NAMES = [
  'ZoneError',
  'absoluteName',
  'bumpSerial',
  'effectiveTtls',
  'entryAt',
  'inZone',
  'isClass',
  'isTtl',
  'movePtrs',
  'namedCheckzoneValidator',
  'nextSerial',
  'parseZone',
  'planZone',
  'printZone',
  'recordType',
  'reverseName',
  'setAddress',
  'setDefaultTtl',
  'setRecordTtl',
  'soaOf',
  'spanText',
  'ttlSeconds',
  'zoneOrigin',
  'zoneStep',
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
