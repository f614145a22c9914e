import { describe, expect, it } from 'vitest'
import { diffStat, unifiedDiff } from '../src/index.js'

describe('unifiedDiff', () => {
  it('prints a/ b/ headers relative to the root and 3 lines of context', () => {
    const before = 'l1\nl2\nl3\nl4\nhost=10.0.10.48\nl6\n'
    const after = 'l1\nl2\nl3\nl4\nhost=finance\nl6\n'
    expect(unifiedDiff('etc/app.conf', before, after)).toBe(
      ['--- a/etc/app.conf', '+++ b/etc/app.conf', '@@ -2,5 +2,5 @@', ' l2', ' l3', ' l4', '-host=10.0.10.48', '+host=finance', ' l6', ''].join('\n'),
    )
  })
  it('marks a missing final newline and hides CR', () => {
    const d = unifiedDiff('f', 'a\r\nb', 'a\r\nc')
    expect(d).toContain('-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file')
    expect(d).not.toContain('\r')
  })
  it('masks sensitive lines', () => {
    const d = unifiedDiff('f', 'a\npw=old\n', 'a\npw=new\n', { before: new Set([2]), after: new Set([2]) })
    expect(d).toContain('-(sensitive)\n+(sensitive)')
    expect(d).not.toMatch(/old|new/)
  })
  it('is empty for equal texts and counts lines', () => {
    expect(unifiedDiff('f', 'x', 'x')).toBe('')
    expect(diffStat(unifiedDiff('f', '-- a\nb\n', '-- c\nb\nd\n'))).toEqual({ added: 2, removed: 1 })
  })
})
