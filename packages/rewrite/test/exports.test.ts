import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/rewrite: a change here is a change of the package's API (and needs a changeset).
const NAMES = ['CutoverError', 'EditConflictError', 'INIT_EXCLUDE', 'INIT_FILES', 'InputError', 'LineIndex', 'LockError', 'Matcher', 'SENSITIVE', 'SecretError', 'SecretStore', 'SpecError', 'StalePlanError', 'ValidationError', 'acquireLock', 'appliedOnce', 'applyEdits', 'applyPlanDocument', 'boundaryFor', 'byAddress', 'checkEdits', 'checkPlanDocument', 'collapsePaths', 'commitFiles', 'commonKeys', 'createEngine', 'decodeText', 'defaultStateDir', 'diffStat', 'discoverFiles', 'encodeText', 'encodeValue', 'faultsFromEnv', 'findAssignments', 'formatDiagnostic', 'hasPhp', 'iniStep', 'initFileKind', 'isBinary', 'isIPv4', 'isMigratable', 'jsStep', 'jsonNodeAt', 'jsonStep', 'leftoverMatcher', 'leftoverPatterns', 'listTransactions', 'literalNeedles', 'literalRules', 'mapOffset', 'maskValues', 'maskedDiff', 'parseIni', 'parseJs', 'parseJson', 'parsePhp', 'parseSpec', 'phpEncoding', 'phpLint', 'phpStep', 'pruneTransactions', 'quotePath', 'readTransaction', 'recover', 'recoverState', 'resolveRecordedSecrets', 'rewriteLiterals', 'rollbackLast', 'ruleKeys', 'rulePatterns', 's', 'scanForInit', 'scanLeftovers', 'setEdits', 'setSchema', 'sha256', 'showControls', 'sortEdits', 'specJsonSchema', 'starterSpec', 'stepMatcher', 'strayTemps', 'textStep', 'toPlanDocument', 'tokenizePhp', 'unifiedDiff', 'valueSpec', 'variantPatterns', 'withLock']

describe('the public API of @cutover/rewrite', () => {
  it('exports exactly these names', async () => {
    expect(Object.keys(await import('@cutover/rewrite')).sort()).toEqual(NAMES)
  })

  it('documents every export with TSDoc and lists every name in the README', () => {
    expect(undocumentedExports('rewrite')).toEqual([])
    expect(unlistedInReadme('rewrite', NAMES, ['CONFIG-FORMATS.md'])).toEqual([])
  })
})
