import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/review: a change here is a change of the package's API (and needs a changeset).
const NAMES = ['HTML_LIMITS', 'ReviewError', 'reviewOf', 'toHtml', 'toMarkdown', 'wholeSummary']

describe('the public API of @cutover/review', () => {
  it('exports exactly these names', async () => {
    expect(Object.keys(await import('@cutover/review')).sort()).toEqual(NAMES)
  })

  it('documents every export with TSDoc and lists every name in the README', () => {
    expect(undocumentedExports('review')).toEqual([])
    expect(unlistedInReadme('review', NAMES)).toEqual([])
  })
})
