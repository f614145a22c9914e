import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { cutoverIn as cutover } from '../fleet/fleet-kit.js'
import { makeTree } from '../tree.js'

const SECRET = 'S3cr3t-Value-91'
const OLD_PW = 'old-ini-pw'

// A validate: command is given paths only: a secret a step writes reaches it inside the staged
// file, never as an argument, and what the command prints of the file is masked in the message.
describe('validate: and secrets', () => {
  it('gets the staged path as its only argument, and its output shows no secret nor the old value', async () => {
    const dir = makeTree(
      {
        'root/etc/my.cnf': `[client]\npassword = ${OLD_PW}\n`,
      },
      'cutover-validate-secret-',
    )
    const args = join(dir, 'args')
    const spec = [
      'version: 1',
      'secrets:',
      '  PW: { env: APP_PW }',
      'steps:',
      '  - ini:',
      '      files: [etc/my.cnf]',
      '      set: { "client.password": { secret: PW } }',
      `      validate: sh -c 'printf "%%s\\n" "$@" > "$0"; cat "$1"; exit 1' ${args} %s`,
      '',
    ].join('\n')
    writeFileSync(join(dir, 'cutover.yaml'), spec)
    const r = await cutover(['apply', '--root', 'root', '--yes'], dir, { APP_PW: SECRET })
    expect(r.code).toBe(1)
    const given = readFileSync(args, 'utf8').split('\n').filter(Boolean)
    expect(given).toHaveLength(1)
    expect(given[0]).toMatch(/\/root\/etc\/\.my\.cnf\.cutover-\S+$/)
    expect(r.err).toContain('etc/my.cnf: validate: sh -c')
    expect(r.err).toContain('exited with status 1:\n    [client]\n    password = (sensitive)\n')
    expect(r.out + r.err).not.toContain(SECRET)
    expect(r.out + r.err).not.toContain(OLD_PW)
    expect(readFileSync(join(dir, 'root/etc/my.cnf'), 'utf8')).toBe(
      `[client]\npassword = ${OLD_PW}\n`,
    )
  })

  it('cuts a long output between lines, never inside a secret', async () => {
    const dir = makeTree(
      { 'root/etc/my.cnf': `[client]\nnote = ${OLD_PW}\n` },
      'cutover-validate-secret-',
    )
    // 4070 blanks and a newline, then the staged file: the 4096th character falls in the secret
    const spec = [
      'version: 1',
      'secrets:',
      '  PW: { env: APP_PW }',
      'steps:',
      '  - ini:',
      '      files: [etc/my.cnf]',
      '      set: { "client.note": { secret: PW } }',
      `      validate: sh -c 'printf "%%4070s\\n" ""; cat "$1"; exit 1' - %s`,
      '',
    ].join('\n')
    writeFileSync(join(dir, 'cutover.yaml'), spec)
    const r = await cutover(['apply', '--root', 'root', '--yes'], dir, { APP_PW: SECRET })
    expect(r.code).toBe(1)
    expect(r.err).toContain('etc/my.cnf: validate: sh -c')
    expect(r.err).toContain('    [client]\n    … (')
    expect(r.out + r.err).not.toContain(SECRET.slice(0, 3))
    expect(r.out + r.err).not.toContain(OLD_PW)
  })
})
