import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/sqlfn: a change here is a change of the package's API (and needs a changeset).
const NAMES = [
  'SqlError',
  'compileRules',
  'connectDatabase',
  'databaseOptions',
  'decodeCopyField',
  'encodeFor',
  'encodingsFor',
  'functionTarget',
  'lexSql',
  'liveParticipants',
  'liveState',
  'loadLexer',
  'nameGlobs',
  'parseConninfo',
  'pieceHead',
  'planDatabase',
  'planSql',
  'readFunction',
  'readFunctions',
  'readLiteral',
  'readTables',
  'rewriteCopyData',
  'rewriteFunction',
  'rewriteFunctionDefinition',
  'rewriteInsert',
  'rewriteValue',
  'ruleNeedles',
  'splitSql',
  'sqlDatabase',
  'sqlLeftovers',
  'sqlSplitValidator',
  'sqlStep',
]

describe('the public API of @cutover/sqlfn', () => {
  it('exports exactly these names', async () => {
    expect(Object.keys(await import('@cutover/sqlfn')).sort()).toEqual(NAMES)
  })

  it('documents every export with TSDoc and lists every name in the README', () => {
    expect(undocumentedExports('sqlfn')).toEqual([])
    expect(unlistedInReadme('sqlfn', NAMES)).toEqual([])
  })
})
