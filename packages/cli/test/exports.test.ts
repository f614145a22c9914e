import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/cli: a change here is a change of the package's API (and needs a changeset).
const NAMES = ['EXIT', 'cliSpecSchema', 'memoryIo', 'run', 'stepKinds']

describe('the public API of @cutover/cli', () => {
  it('exports exactly these names', async () => {
    expect(Object.keys(await import('@cutover/cli')).sort()).toEqual(NAMES)
  })

  it('documents every export with TSDoc and lists every name in the README', () => {
    expect(undocumentedExports('cli')).toEqual([])
    expect(unlistedInReadme('cli', NAMES)).toEqual([])
  })
})
