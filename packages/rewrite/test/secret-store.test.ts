import { describe, expect, it } from 'vitest'
import { SecretStore } from '../src/spec/secrets.js'

describe('SecretStore', () => {
  it('records the secrets read in the order of their names, not of the reads', () => {
    const store = new SecretStore(
      { B_PASSWORD: { env: 'B_ENV' }, A_PASSWORD: { env: 'A_ENV' }, C_PASSWORD: { env: 'C_ENV' } },
      { A_ENV: 'a-value', B_ENV: 'b-value', C_ENV: 'c-value' },
    )
    store.get('C_PASSWORD')
    store.get('A_PASSWORD')
    store.get('B_PASSWORD')
    const records = store.records()
    expect(records.map((r) => [r.name, r.env])).toEqual([
      ['A_PASSWORD', 'A_ENV'],
      ['B_PASSWORD', 'B_ENV'],
      ['C_PASSWORD', 'C_ENV'],
    ])
    expect(JSON.stringify(records)).not.toMatch(/-value/)
  })
})
