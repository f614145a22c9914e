import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/sqlfn: a change here is a change of the package's API (and needs a changeset).
const NAMES = [
  'SqlError',
  'compileRules',
  'connectDatabase',
  'copyIsCsv',
  'databaseOptions',
  'decodeCopyField',
  'describeClient',
  'dollarTag',
  'encodeCopy',
  'encodeFor',
  'encodingsFor',
  'functionSignature',
  'functionTarget',
  'functionValues',
  'identityValue',
  'lexSql',
  'lexerLoaded',
  'liveParticipants',
  'liveState',
  'loadLexer',
  'nameAfter',
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
  'routineName',
  'ruleNeedles',
  'skipBlockComment',
  'skipQuoted',
  'splitSql',
  'sqlDatabase',
  'sqlLeftovers',
  'sqlSplitValidator',
  'sqlStep',
  'valueEdits',
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
