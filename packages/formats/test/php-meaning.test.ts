import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { phpLint, phpStep, type PhpOptions } from '../src/index.js'
import { financeContext as context, need, planText } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

// Rewritten PHP read back by PHP itself: the file is included by `php -r` and the values it
// assigns are printed as JSON. Matching runs on the value PHP reads (escapes decoded, heredoc
// indentation removed), and a replacement never changes how PHP parses the string around it.

const opts = (o: Partial<PhpOptions>): PhpOptions => ({ files: ['x'], ...o })

/** Includes `src` with PHP and returns `$v` as PHP built it (warnings fail the test). */
function include(src: string): unknown {
  const dir = tempDir('cutover-phpmeaning-')
  const file = join(dir, 'config.php')
  writeFileSync(file, src)
  const out = execFileSync(
    'php',
    [
      '-d',
      'display_errors=stderr',
      '-d',
      'error_reporting=-1',
      '-r',
      'set_error_handler(function ($n, $m) { fwrite(STDERR, "PHP: $m\\n"); exit(7); }); include $argv[1]; echo json_encode($v);',
      file,
    ],
    { encoding: 'utf8' },
  )
  return JSON.parse(out)
}

const NAME = 'finance.thehumanjourney.net'

describe('php: rules match the value PHP reads', () => {
  const src = [
    '<?php',
    '$o = "OBJ";',
    '$v = [];',
    '$v[] = "line\\nmentat-alt";',
    '$v[] = "tab\\tmentat-alt";',
    '$v[] = "cr\\rmentat-alt";',
    '$v[] = "dot \\x2e10.0.10.48";',
    '$v[] = "escaped 10.0.10\\x2e48";',
    "$v[] = 'it\\'s 10.0.10.48';",
    '$v[] = <<<EOT',
    'here\\nmentat-alt',
    'EOT;',
    '',
  ].join('\n')

  it('renames after \\n, \\t, \\r and in heredocs; leaves "\\x2e10.0.10.48" (value .10.0.10.48) with a near-miss', async () => {
    const r = await planText(
      phpStep,
      src,
      opts({ addresses: 'names', replace: { 'mentat-alt': 'mentat' } }),
    )
    expect(r.diagnostics).toEqual([])
    expect(r.after).toContain('"dot \\x2e10.0.10.48"')
    expect(r.leftovers.map((l) => [r.after.length && src.slice(l.start, l.end), l.reason])).toEqual(
      [
        [
          '10.0.10.48',
          'near-miss: "10.0.10.48" inside ".10.0.10.48" (the literal\'s value) is not rewritten',
        ],
      ],
    )
    if (!need('php')) return
    expect(include(src)).toEqual([
      'line\nmentat-alt',
      'tab\tmentat-alt',
      'cr\rmentat-alt',
      'dot .10.0.10.48',
      'escaped 10.0.10.48',
      "it's 10.0.10.48",
      'here\nmentat-alt',
    ])
    expect(include(r.after)).toEqual([
      'line\nmentat',
      'tab\tmentat',
      'cr\rmentat',
      'dot .10.0.10.48',
      `escaped ${NAME}`,
      `it's ${NAME}`,
      'here\nmentat',
    ])
    expect(
      (
        await planText(
          phpStep,
          r.after,
          opts({ addresses: 'names', replace: { 'mentat-alt': 'mentat' } }),
        )
      ).edits,
    ).toEqual([])
  })

  it('keeps interpolation as it was: braces $o before "->name", escapes a raw $ or \\ before the replacement', async () => {
    const s = [
      '<?php',
      '$o = "OBJ";',
      '$v = [];',
      '$v[] = "$o->10.0.10.48";',
      '$v[] = "cost $10.0.10.48";',
      '$v[] = "dir C:\\old-name";',
      '$v[] = <<<EOT',
      '  $o->10.0.10.48 and $o',
      '  EOT;',
      '',
    ].join('\n')
    const r = await planText(
      phpStep,
      s,
      opts({ addresses: 'names', replace: { 'old-name': 'new-name' } }),
    )
    expect(r.diagnostics).toEqual([])
    if (!need('php')) return
    expect(include(s)).toEqual([
      'OBJ->10.0.10.48',
      'cost $10.0.10.48',
      'dir C:\\old-name',
      'OBJ->10.0.10.48 and OBJ',
    ])
    expect(include(r.after)).toEqual([
      `OBJ->${NAME}`,
      `cost $${NAME}`,
      'dir C:\\new-name',
      `OBJ->${NAME} and OBJ`,
    ])
    expect(r.after).toContain(`"{$o}->${NAME}"`)
    expect(
      (
        await planText(
          phpStep,
          r.after,
          opts({ addresses: 'names', replace: { 'old-name': 'new-name' } }),
        )
      ).edits,
    ).toEqual([])
  })

  it('refuses, with a warning and a leftover, a replacement that would open an interpolation it cannot escape', async () => {
    const s = '<?php\n$x = "a";\n$v = ["old-name$x"];\n'
    const r = await planText(phpStep, s, opts({ replace: { 'old-name': 'new{' } }))
    expect(r.edits).toEqual([])
    expect(r.diagnostics).toMatchObject([
      {
        code: 'PHP_INTERPOLATION',
        severity: 'warning',
        range: { start: s.indexOf('old-name'), end: s.indexOf('old-name') + 8 },
      },
    ])
    expect(r.leftovers).toMatchObject([
      {
        text: 'old-name',
        reason: expect.stringMatching(/^not rewritten: the replacement ends with "\{"/),
      },
    ])
    const s2 = '<?php\n$x = "a";\n$v = ["10.0.10.48$x"];\n'
    const r2 = await planText(
      phpStep,
      s2,
      opts({ addresses: 'names' }),
      context({ inventory: [{ name: 'f{', old: '10.0.10.48', new: '10.0.10.49' }] }),
    )
    expect(r2.edits).toEqual([])
    expect(r2.leftovers).toMatchObject([
      {
        text: '10.0.10.48',
        reason: expect.stringMatching(/^not rewritten: the replacement ends with "\{"/),
      },
    ])
  })

  it('refuses a set value or replacement with a line that would close the heredoc', async () => {
    const s = "<?php\ndefine('NOTE', <<<EOT\n  old 10.0.10.48\n  EOT);\n$v = [NOTE];\n"
    const r = await planText(
      phpStep,
      s,
      opts({ set: { NOTE: "x\nEOT);\nsystem('id');\ndefine('Y', <<<EOT\n" } }),
    )
    expect(r.edits).toEqual([])
    expect(r.diagnostics).toMatchObject([{ code: 'SET_UNSAFE' }])
    const r2 = await planText(
      phpStep,
      s,
      opts({ addresses: 'names' }),
      context({
        inventory: [{ name: "a\nEOT);\nsystem('id');//", old: '10.0.10.48', new: '10.0.10.49' }],
      }),
    )
    expect(r2.edits).toEqual([])
    expect(r2.diagnostics).toMatchObject([{ code: 'PHP_INTERPOLATION' }])
    if (!need('php')) return
    expect(include(r.after)).toEqual(['old 10.0.10.48'])
  })

  it('never rewrites what follows __halt_compiler();', async () => {
    const s =
      "<?php\n$v = ['10.0.10.48'];\n__halt_compiler();\n$v = ['10.0.10.48']; \"10.0.10.48\"\n"
    const r = await planText(phpStep, s, opts({ addresses: 'names' }))
    expect(r.after).toBe(s.replace("['10.0.10.48'];\n__", `['${NAME}'];\n__`))
    expect(r.leftovers.map((l) => l.reason)).toEqual([
      'old address: data after __halt_compiler(), not code',
      'old address: data after __halt_compiler(), not code',
    ])
    if (!need('php')) return
    expect(include(r.after)).toEqual([NAME])
  })
})

describe('php: flexible (indented) heredocs', () => {
  it('flips a variant inside an indented heredoc once, with no leftover', async () => {
    const s =
      "<?php\n$v = [\n    <<<EOT\n        oas.staff\n        EOT,\n    <<<'NOW'\n      oas.staff\n      NOW,\n];\n"
    const r = await planText(phpStep, s, opts({ variants: ['routing-keys'] }))
    expect(r.edits).toHaveLength(2)
    expect(r.leftovers).toEqual([])
    const again = await planText(phpStep, r.after, opts({ variants: ['routing-keys'] }))
    expect(again.edits).toEqual([])
    expect(again.leftovers).toEqual([])
    if (!need('php')) return
    expect(include(r.after)).toEqual(['oas.staff.test', 'oas.staff.test'])
  })

  it('set into an indented heredoc keeps the indentation: php -l passes and PHP reads the value', async () => {
    const s = "<?php\ndefine('NOTE', <<<EOT\n    old\n      text\n    EOT);\n$v = [NOTE];\n"
    const value = 'line one\n  line two $x'
    const r = await planText(phpStep, s, opts({ set: { NOTE: value } }))
    expect(r.diagnostics).toEqual([])
    expect((await planText(phpStep, r.after, opts({ set: { NOTE: value } }))).edits).toEqual([])
    const one = await planText(
      phpStep,
      s,
      opts({ set: { NOTE: { secret: 'PW' } } }),
      context({ secrets: { PW: 'pw$1' } }),
    )
    if (!need('php')) return
    const dir = tempDir('cutover-phpflex-')
    writeFileSync(join(dir, 'c.php'), r.after)
    expect(await phpLint.run(join(dir, 'c.php'), 'c.php')).toBeUndefined()
    expect(include(r.after)).toEqual([value])
    expect(include(one.after)).toEqual(['pw$1'])
  })
})
