import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/sudoers: a change here is a change of the package's API (and needs a changeset).
const NAMES = [
  'ALIAS_KEYWORD',
  'SudoersSyntaxError',
  'checkSudoers',
  'ensureAlias',
  'ensureRule',
  'flattenRule',
  'flattenRules',
  'lintSudoers',
  'listAliases',
  'memberKey',
  'parseMember',
  'parseRule',
  'parseSudoers',
  'printSudoers',
  'removeAlias',
  'removeRule',
  'renameHost',
  'ruleKey',
  'sudoersChecksValidator',
  'sudoersEdits',
  'sudoersStep',
  'visudoValidator',
]

describe('the public API of @cutover/sudoers', () => {
  it('exports exactly these names', async () => {
    expect(Object.keys(await import('@cutover/sudoers')).sort()).toEqual(NAMES)
  })

  it('documents every export with TSDoc and lists every name in the README', () => {
    expect(undocumentedExports('sudoers')).toEqual([])
    expect(unlistedInReadme('sudoers', NAMES)).toEqual([])
  })
})
