import { describe, expect, it } from 'vitest'
import { commandProblem, commandUses, fillCommand, splitCommand } from '../src/index.js'

describe('splitCommand: words as a shell splits a simple command, nothing more', () => {
  it.each([
    ['nginx -t -c %s', ['nginx', '-t', '-c', '%s']],
    ['  nginx\t-t \n -c   %s  ', ['nginx', '-t', '-c', '%s']],
    [
      `sh -c 'test -f "$1" && exit 3' check %s`,
      ['sh', '-c', 'test -f "$1" && exit 3', 'check', '%s'],
    ],
    [`grep -q "a b\\"c" %s`, ['grep', '-q', 'a b"c', '%s']],
    [`echo "it's" '\\n' %s`, ['echo', "it's", '\\n', '%s']],
    ['a\\ b %s', ['a b', '%s']],
    [`--name="a b"'c d'e %s`, ['--name=a bc de', '%s']],
    [`x '' "" %s`, ['x', '', '', '%s']],
    ['x $HOME * | > ; %s', ['x', '$HOME', '*', '|', '>', ';', '%s']],
    ['x "\\$HOME" \\\\ %s', ['x', '$HOME', '\\', '%s']],
  ])('%j', (command, argv) => {
    expect(splitCommand(command)).toEqual({ argv })
  })

  it.each([
    [`x 'abc`, 2, 'single quote'],
    [`x "abc\\"`, 2, 'double quote'],
    ['x abc\\', 5, 'backslash'],
    ['   ', 0, 'empty'],
  ])('%j is refused where it goes wrong', (command, at, what) => {
    const r = splitCommand(command)
    expect(r).toMatchObject({ at })
    expect('problem' in r && r.problem).toContain(what)
  })
})

describe('commandProblem: a validate command must name the staged file or the scratch root', () => {
  it('accepts %s, %d, %% and either placeholder inside a word', () => {
    expect(commandProblem('nginx -t -c %s')).toBeUndefined()
    expect(commandProblem('netplan generate --root-dir %d')).toBeUndefined()
    expect(commandProblem('tool --root=%d --fmt=100%% --file=%s')).toBeUndefined()
  })
  it('refuses a command naming neither, another % sequence, or one that does not split', () => {
    expect(commandProblem('nginx -t')).toMatch(/neither the staged file \(%s\) nor/)
    expect(commandProblem('echo %%s')).toMatch(/neither/)
    expect(commandProblem('date +%Y %s')).toMatch(/"%Y" in "\+%Y" is not a placeholder/)
    expect(commandProblem('x %s %')).toMatch(/"%" in "%" is not a placeholder/)
    expect(commandProblem("x '%s")).toMatch(/single quote is not closed \(at character 3\)/)
  })
  it('says which placeholders a command uses', () => {
    expect(commandUses(['a', '%s'])).toEqual({ file: true, dir: false })
    expect(commandUses(['a', '--root=%d', '%%s'])).toEqual({ file: false, dir: true })
  })
})

describe('fillCommand: placeholders filled in each word, never re-split', () => {
  it('puts a path with blanks and quotes in one word', () => {
    const file = `/srv/a b/it's "x".conf`
    expect(
      fillCommand(['sh', '-c', 'cat "$1"', '-', '%s', '--root=%d', '100%%'], {
        file,
        dir: '/tmp/d $x',
      }),
    ).toEqual(['sh', '-c', 'cat "$1"', '-', file, '--root=/tmp/d $x', '100%'])
  })
})
