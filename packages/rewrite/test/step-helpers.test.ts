import { describe, expect, it } from 'vitest'
import { perContext, ruleFallback, type Context } from '../src/index.js'
import { ruleEntries } from '../src/step/rule-entries.js'

const context = (): Context =>
  ({
    root: '/',
    profile: undefined,
    profiles: [],
    inventory: [],
    variants: [],
  }) as unknown as Context

describe('perContext', () => {
  it('builds once per (key, context) and again for another key or another plan', () => {
    const built: string[] = []
    const of = perContext((o: { name: string }, _ctx) => {
      built.push(o.name)
      return { name: o.name.toUpperCase() }
    })
    const a = { name: 'a' }
    const b = { name: 'b' }
    const one = context()
    const two = context()
    const first = of(a, one)
    expect(of(a, one)).toBe(first)
    expect(first).toEqual({ name: 'A' })
    of(b, one)
    of(a, two)
    of(b, one)
    expect(built).toEqual(['a', 'b', 'a'])
  })

  it('keeps a value that is undefined, built once', () => {
    let calls = 0
    const of = perContext((_k: string, _ctx) => void calls++)
    const ctx = context()
    of('x', ctx)
    of('x', ctx)
    expect(calls).toBe(1)
  })
})

describe('ruleFallback', () => {
  it('says addresses: none by default, else that no rule rewrites it', () => {
    expect(ruleFallback({})).toBe('this step has addresses: none')
    expect(ruleFallback({ addresses: 'none' })).toBe('this step has addresses: none')
    expect(ruleFallback({ addresses: 'names' })).toBe('no rule of this step rewrites it')
    expect(ruleFallback({ addresses: 'new' })).toBe('no rule of this step rewrites it')
  })
})

describe('ruleEntries', () => {
  it('gives each replace key and swap pair as data: its rule, label, place and values', () => {
    expect(ruleEntries({ replace: { a: 'b', c: '' }, swap: [['x', 'y']] })).toEqual([
      {
        rule: 'replace',
        label: 'replace key "a"',
        at: ['replace', 'a'],
        finds: ['a', 'b'],
        writes: 'b',
      },
      {
        rule: 'replace',
        label: 'replace key "c"',
        at: ['replace', 'c'],
        finds: ['c', ''],
        writes: '',
      },
      { rule: 'swap', label: 'swap [x, y]', at: ['swap', 0], finds: ['x', 'y'] },
    ])
    expect(ruleEntries({ addresses: 'names' })).toEqual([])
  })
})
