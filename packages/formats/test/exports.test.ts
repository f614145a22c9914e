import { describe, expect, it } from 'vitest'
import { undocumentedExports, unlistedInReadme } from '../../../test/exports.js'

// The public names of @cutover/formats: a change here is a change of the package's API (and needs a changeset).
const NAMES = [
  'findAssignments',
  'hasPhp',
  'iniStep',
  'jsStep',
  'jsonNodeAt',
  'jsonStep',
  'parseIni',
  'parseJs',
  'parseJson',
  'parsePhp',
  'parseYaml',
  'phpEncoding',
  'phpLint',
  'phpStep',
  'tokenizePhp',
  'yamlStep',
]

// Each subpath loads one format alone.
const SUBPATHS = {
  php: [
    'findAssignments',
    'hasPhp',
    'parsePhp',
    'phpEncoding',
    'phpLint',
    'phpStep',
    'tokenizePhp',
  ],
  ini: ['iniStep', 'parseIni'],
  json: ['jsonNodeAt', 'jsonStep', 'parseJson'],
  js: ['jsStep', 'parseJs'],
  yaml: ['parseYaml', 'yamlStep'],
}

describe('the public API of @cutover/formats', () => {
  it('exports exactly these names', async () => {
    expect(Object.keys(await import('@cutover/formats')).sort()).toEqual(NAMES)
  })

  it('exports each format from its subpath', async () => {
    const got = {
      php: Object.keys(await import('@cutover/formats/php')).sort(),
      ini: Object.keys(await import('@cutover/formats/ini')).sort(),
      json: Object.keys(await import('@cutover/formats/json')).sort(),
      js: Object.keys(await import('@cutover/formats/js')).sort(),
      yaml: Object.keys(await import('@cutover/formats/yaml')).sort(),
    }
    expect(got).toEqual(SUBPATHS)
  })

  it('documents every export with TSDoc and lists every name in the README', () => {
    expect(undocumentedExports('formats')).toEqual([])
    expect(unlistedInReadme('formats', NAMES)).toEqual([])
  })
})
