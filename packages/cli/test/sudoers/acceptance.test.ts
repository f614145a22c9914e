import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryIo, run } from '../../src/index.js'
import { cvtsudoers, need, visudo } from '@cutover/test-kit'
import { tempDir } from '@cutover/test-kit/temp'

const FINANCE =
  '/home/finance/synchCommand.sh . /home/finance/midnightScripts.sh /home/finance/.financeLock'
const PULL =
  '/home/finance/synchCommand.sh . /home/finance/pullTimeSheets.sh * /home/finance/.financeLock'
const SLIP =
  '/home/finance/synchCommand.sh . /home/finance/slipExpAndDatedProjects.sh /home/finance/.financeLock'
const ORIGINAL = [
  '# Cmnd alias specification',
  `Cmnd_Alias FINANCESCRIPT= ${FINANCE}`,
  'Defaults:www-data !requiretty',
  '',
].join('\n')
const RULES = [
  'www-data ALL=(finance) NOPASSWD:FINANCESCRIPT',
  'www-data ALL=(finance) NOPASSWD:PULLTSSCRIPT',
  'www-data ALL=(finance) NOPASSWD:SLIPEXPSCRIPT',
]

function spec(rules: string[]): string {
  return [
    'version: 1',
    'steps:',
    '  - sudoers:',
    '      files: [etc/sudoers.d/finance]',
    '      aliases:',
    `        FINANCESCRIPT: ["${FINANCE}"]`,
    `        PULLTSSCRIPT: ["${PULL}"]`,
    `        SLIPEXPSCRIPT: ["${SLIP}"]`,
    '      rules:',
    ...rules.map((r) => `        - "${r}"`),
    '  - text:',
    '      files: [etc/hostname]',
    '      replace: { mentat-alt: mentat-hub }',
    '',
  ].join('\n')
}

function tree(rules: string[]): {
  root: string
  specPath: string
  sudoers: string
  hostname: string
} {
  const root = tempDir('sudoers-accept-')
  mkdirSync(join(root, 'etc/sudoers.d'), { recursive: true })
  const sudoers = join(root, 'etc/sudoers.d/finance')
  writeFileSync(sudoers, ORIGINAL)
  chmodSync(sudoers, 0o440)
  const hostname = join(root, 'etc/hostname')
  writeFileSync(hostname, 'mentat-alt\n')
  const specPath = join(root, 'cutover.yaml')
  writeFileSync(specPath, spec(rules))
  return { root, specPath, sudoers, hostname }
}

const hash = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex')

describe('finance sudoers through the CLI', () => {
  it('applies aliases and rules with another step, keeps mode, comment and Defaults; a second plan is empty', async () => {
    const t = tree(RULES)
    const io = memoryIo({ cwd: t.root })
    const code = await run(['apply', '--spec', t.specPath, '--root', t.root, '--yes'], io)
    expect(io.err()).toBe('')
    expect(code).toBe(0)
    const after = readFileSync(t.sudoers, 'utf8')
    expect(statSync(t.sudoers).mode & 0o777).toBe(0o440)
    expect(after).toContain('# Cmnd alias specification\n')
    expect(after).toContain('Defaults:www-data !requiretty\n')
    expect(readFileSync(t.hostname, 'utf8')).toBe('mentat-hub\n')
    if (need('visudo')) expect(visudo(t.sudoers)).toBeUndefined()
    if (need('cvtsudoers')) {
      const json = cvtsudoers(t.sudoers) as {
        Command_Aliases: Record<string, unknown[]>
        User_Specs: unknown[]
      }
      expect(Object.keys(json.Command_Aliases).sort()).toEqual([
        'FINANCESCRIPT',
        'PULLTSSCRIPT',
        'SLIPEXPSCRIPT',
      ])
      expect(json.Command_Aliases.PULLTSSCRIPT).toEqual([{ command: PULL.replace(/ +/g, ' ') }])
      expect(json.User_Specs).toEqual(
        ['FINANCESCRIPT', 'PULLTSSCRIPT', 'SLIPEXPSCRIPT'].map((a) => ({
          User_List: [{ username: 'www-data' }],
          Host_List: [{ hostname: 'ALL' }],
          Cmnd_Specs: [
            {
              runasusers: [{ username: 'finance' }],
              Options: [{ authenticate: false }],
              Commands: [{ cmndalias: a }],
            },
          ],
        })),
      )
    }
    const again = memoryIo({ cwd: t.root })
    expect(
      await run(['plan', '--spec', t.specPath, '--root', t.root, '--detailed-exitcode'], again),
    ).toBe(0)
    expect(again.out()).toMatch(/WILDCARD_ARGS/)
  })

  it('refuses a malformed rule, naming sudoers and the position, and changes no file', async () => {
    const t = tree([RULES[0]!, 'www-data ALL=(finance NOPASSWD:PULLTSSCRIPT', RULES[2]!])
    const before = [hash(t.sudoers), hash(t.hostname)]
    const io = memoryIo({ cwd: t.root })
    expect(await run(['apply', '--spec', t.specPath, '--root', t.root, '--yes'], io)).toBe(1)
    expect(io.err()).toMatch(/cutover\.yaml:11:\d+: SUDOERS_SYNTAX sudoers: rule/)
    expect([hash(t.sudoers), hash(t.hostname)]).toEqual(before)
  })

  it('aborts the whole apply when the staged file fails the sudoers checks, naming the line', async () => {
    const t = tree([...RULES, 'www-data ALL=(finance) NOPASSWD: MISSINGSCRIPT'])
    const before = [hash(t.sudoers), hash(t.hostname)]
    const io = memoryIo({ cwd: t.root })
    expect(await run(['apply', '--spec', t.specPath, '--root', t.root, '--yes'], io)).toBe(1)
    expect(io.err()).toMatch(
      /validation failed, nothing was written[\s\S]*sudoers: [\s\S]*etc\/sudoers\.d\/finance:8:34: UNDEFINED_ALIAS/,
    )
    expect([hash(t.sudoers), hash(t.hostname)]).toEqual(before)
  })
})
