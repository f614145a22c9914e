import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { need } from '@cutover/test-kit'
import { describe, expect, it } from 'vitest'
import { cutover as spawned, cutoverIn as cutover } from '../fleet/fleet-kit.js'
import { makeTree, snapshot } from '../tree.js'

// A step's validate: command on the staged files of a single root, through the built CLI: what
// fails (exit status, missing command, timeout) aborts the apply with nothing written; what passes
// lets it through. The root's directory has a blank in its name, so a path given to a command
// that was split again by a shell would break.

const HOSTS = ['hosts:', '  db.example: { old: 10.0.0.1, new: 10.0.0.2 }']

function spec(steps: string[]): string {
  return ['version: 1', ...HOSTS, 'steps:', ...steps, ''].join('\n')
}

/** A tree with `cutover.yaml` and a root `my root/` holding `files`. */
function tree(steps: string[], files: Record<string, string>): { dir: string; root: string } {
  const dir = makeTree({ 'cutover.yaml': spec(steps) }, 'cutover-validate-')
  const root = join(dir, 'my root')
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true })
    writeFileSync(join(root, path), text)
  }
  return { dir, root }
}

/** Every file of the root but cutover's state directory (the journal of an aborted apply is there). */
function files(root: string): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(snapshot(root)).filter(([p]) => !p.startsWith('var/lib/cutover/')),
  )
}

const APP = { 'etc/app/app.conf': 'db = 10.0.0.1\n' }

describe('validate: on a step, applied to one root', () => {
  it('lists the command in the plan and the review, and plan does not run it', async () => {
    const { dir } = tree(
      ['  - text: { files: [etc/app/*.conf], addresses: new, validate: "false %s" }'],
      APP,
    )
    const plan = await cutover(['plan', '--root', 'my root'], dir)
    expect(plan.code).toBe(0)
    expect(plan.out).toContain(
      'Validated by apply before anything is installed (plan does not run these):\n  validate: false %s: etc/app/app.conf\n',
    )
    const json = await cutover(['plan', '--root', 'my root', '--json'], dir)
    const doc = JSON.parse(json.out) as { changes: Array<{ validators: string[] }> }
    expect(doc.changes.map((c) => c.validators)).toEqual([['validate: false %s']])
  })

  it('a command that exits non-zero (false) aborts the apply, nothing written, naming file and command', async () => {
    const { dir, root } = tree(
      ['  - text: { files: [etc/app/*.conf], addresses: new, validate: "false %s" }'],
      { ...APP, 'etc/app/other.conf': 'peer 10.0.0.1\n' },
    )
    const before = files(root)
    const r = await cutover(['apply', '--root', 'my root', '--yes'], dir)
    expect(r.code).toBe(1)
    expect(r.err).toContain('validation failed, nothing was written')
    expect(r.err).toContain(
      'etc/app/app.conf: validate: false %s: exited with status 1 and printed nothing',
    )
    expect(r.err).toContain('etc/app/other.conf: validate: false %s: exited with status 1')
    expect(r.err).not.toMatch(/\n\s+at /)
    expect(files(root)).toEqual(before)
    // no staged file is left beside the targets
    expect(readdirSync(join(root, 'etc/app')).sort()).toEqual(['app.conf', 'other.conf'])
  })

  it('gives the command its output back, the staged path shown as the target, and runs it on files other steps change', async () => {
    // the first step changes nothing; the second changes the file, which the first's validate checks
    const { dir, root } = tree(
      [
        `  - text: { files: [etc/app/*.conf], replace: { nowhere.example: elsewhere.example }, validate: "sh -c 'echo checking \\"$1\\"; grep -n db \\"$1\\"; exit 3' check %s" }`,
        '  - text: { files: [etc/app/*.conf], addresses: names }',
      ],
      APP,
    )
    const before = files(root)
    const r = await cutover(['apply', '--root', 'my root', '--yes'], dir)
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      `etc/app/app.conf: validate: sh -c 'echo checking "$1"; grep -n db "$1"; exit 3' check %s: exited with status 3:\n    checking etc/app/app.conf\n    1:db = db.example\n`,
    )
    expect(r.err).not.toContain('.cutover-')
    expect(files(root)).toEqual(before)
  })

  it('keeps a quoted argument one word, and a path with blanks too; a passing command lets the apply through', async () => {
    const { dir, root } = tree(
      [
        `  - text: { files: [etc/app/*.conf], addresses: new, validate: "grep -q 'db = 10.0.0.2' %s" }`,
      ],
      APP,
    )
    const r = await cutover(['apply', '--root', 'my root', '--yes'], dir)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(readFileSync(join(root, 'etc/app/app.conf'), 'utf8')).toBe('db = 10.0.0.2\n')

    const miss = tree(
      [
        `  - text: { files: [etc/app/*.conf], addresses: new, validate: 'grep -q "db = 10.0.0.1" %s' }`,
      ],
      APP,
    )
    const failed = await cutover(['apply', '--root', 'my root', '--yes'], miss.dir)
    expect(failed.code).toBe(1)
    expect(failed.err).toContain(
      `etc/app/app.conf: validate: grep -q "db = 10.0.0.1" %s: exited with status 1 and printed nothing`,
    )
    expect(readFileSync(join(miss.root, 'etc/app/app.conf'), 'utf8')).toBe('db = 10.0.0.1\n')
  })

  it('%d is a scratch root holding the staged file at its path, removed after the command', async () => {
    const record = 'sh -c \'cd "$1" && find . -type f -exec grep -H . {} + && pwd > "$2"; exit 4\''
    const { dir, root } = tree(
      [
        `  - text: { files: [etc/app/*.conf], addresses: new, validate: "${record.replaceAll('"', '\\"')} x %d ${'OUT'}" }`,
      ],
      APP,
    )
    const out = join(dir, 'scratch-was')
    writeFileSync(
      join(dir, 'cutover.yaml'),
      readFileSync(join(dir, 'cutover.yaml'), 'utf8').replace('OUT', out),
    )
    const before = files(root)
    const r = await cutover(['apply', '--root', 'my root', '--yes'], dir)
    expect(r.code).toBe(1)
    expect(r.err).toContain('exited with status 4:\n    ./etc/app/app.conf:db = 10.0.0.2\n')
    expect(files(root)).toEqual(before)
    // the scratch root was a directory of its own, gone once the command ran
    const scratch = readFileSync(out, 'utf8').trim()
    expect(scratch).toMatch(/cutover-validate-/)
    expect(() => readdirSync(scratch)).toThrow(/ENOENT/)

    const pass = tree(
      [
        `  - text: { files: [etc/app/*.conf], addresses: new, validate: "grep -qx 'db = 10.0.0.2' %d/etc/app/app.conf" }`,
      ],
      APP,
    )
    const ok = await cutover(['apply', '--root', 'my root', '--yes'], pass.dir)
    expect(ok.err).toBe('')
    expect(ok.code).toBe(0)
    expect(readFileSync(join(pass.root, 'etc/app/app.conf'), 'utf8')).toBe('db = 10.0.0.2\n')
  })

  it('a command that outlives CUTOVER_TOOL_TIMEOUT_MS, or that is not installed, aborts the apply', async () => {
    const slow = tree(
      [`  - text: { files: [etc/app/*.conf], addresses: new, validate: "sh -c 'sleep 30' x %s" }`],
      APP,
    )
    const before = files(slow.root)
    const started = Date.now()
    // the tools' timeout is read from the process's environment: this run spawns the binary
    const r = await spawned(['apply', '--root', 'my root', '--yes'], slow.dir, {
      CUTOVER_TOOL_TIMEOUT_MS: '500',
    })
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      "etc/app/app.conf: validate: sh -c 'sleep 30' x %s: did not finish within 0.5 s (CUTOVER_TOOL_TIMEOUT_MS)",
    )
    // killed, not waited for: sooner than its sleep would end, however loaded the machine
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(files(slow.root)).toEqual(before)

    const missing = tree(
      ['  - text: { files: [etc/app/*.conf], addresses: new, validate: "no-such-checker-7f3 %s" }'],
      APP,
    )
    const m = await cutover(['apply', '--root', 'my root', '--yes'], missing.dir)
    expect(m.code).toBe(1)
    expect(m.err).toContain(
      'etc/app/app.conf: validate: no-such-checker-7f3 %s: no-such-checker-7f3: command not found',
    )
    expect(readFileSync(join(missing.root, 'etc/app/app.conf'), 'utf8')).toBe('db = 10.0.0.1\n')
  })

  it('a saved plan runs the command it lists; one listing a command the spec could not give is refused', async () => {
    const { dir, root } = tree(
      ['  - text: { files: [etc/app/*.conf], addresses: new, validate: "true %s" }'],
      APP,
    )
    const plan = await cutover(['plan', '--root', 'my root', '--out', 'plan.json'], dir)
    expect(plan.code).toBe(0)
    const saved = readFileSync(join(dir, 'plan.json'), 'utf8')
    expect(saved).toContain('"validate: true %s"')
    // the plan is what runs: the command it lists, not the spec's
    writeFileSync(
      join(dir, 'plan.json'),
      saved.replace('"validate: true %s"', '"validate: false %s"'),
    )
    const edited = await cutover(['apply', 'plan.json', '--yes'], dir)
    expect(edited.code).toBe(1)
    expect(edited.err).toContain('etc/app/app.conf: validate: false %s: exited with status 1')
    writeFileSync(
      join(dir, 'plan.json'),
      saved.replace('"validate: true %s"', '"validate: rm -rf /tmp/x"'),
    )
    const bad = await cutover(['apply', 'plan.json', '--yes'], dir)
    expect(bad.code).toBe(1)
    expect(bad.err).toContain(
      'etc/app/app.conf: validator "validate: rm -rf /tmp/x": the command names neither the staged file (%s) nor a scratch root holding it (%d)',
    )
    expect(readFileSync(join(root, 'etc/app/app.conf'), 'utf8')).toBe('db = 10.0.0.1\n')
    writeFileSync(join(dir, 'plan.json'), saved)
    const ok = await cutover(['apply', 'plan.json', '--yes'], dir)
    expect(ok.err).toBe('')
    expect(readFileSync(join(root, 'etc/app/app.conf'), 'utf8')).toBe('db = 10.0.0.2\n')
  })

  it('a command naming neither %s nor %d, or one that does not split, is a spec error at its line and column', async () => {
    const { dir, root } = tree(
      [
        '  - text: { files: [etc/app/*.conf], addresses: new, validate: "nginx -t" }',
        `  - text: { files: [etc/app/*.conf], addresses: new, validate: "check 'open %s" }`,
      ],
      APP,
    )
    const r = await cutover(['plan', '--root', 'my root'], dir)
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      'cutover.yaml:5:64: SPEC_VALUE the command names neither the staged file (%s) nor a scratch root holding it (%d), so it would not check the file',
    )
    expect(r.err).toContain(
      'cutover.yaml:6:64: SPEC_VALUE a single quote is not closed (at character 7)',
    )
    expect(r.err).not.toMatch(/\n\s+at /)
    expect(readFileSync(join(root, 'etc/app/app.conf'), 'utf8')).toBe('db = 10.0.0.1\n')
  })
})

describe.runIf(need('nginx'))('validate: nginx -t on the staged nginx.conf', () => {
  const CONF = 'events {}\nhttp {\n  upstream app { server 10.0.0.1:8080; }\n}\n'

  it("aborts on a broken staged file with nginx's words, and lets a good one through", async () => {
    const broken = tree(
      [
        '  - text:',
        '      files: [etc/nginx/nginx.conf]',
        '      replace: { "10.0.0.1:8080": "10.0.0.2:80800" }',
        '      validate: nginx -t -q -c %s',
      ],
      { 'etc/nginx/nginx.conf': CONF },
    )
    const before = files(broken.root)
    const r = await cutover(['apply', '--root', 'my root', '--yes'], broken.dir)
    expect(r.code).toBe(1)
    expect(r.err).toContain(
      'etc/nginx/nginx.conf: validate: nginx -t -q -c %s: exited with status 1:',
    )
    expect(r.err).toMatch(
      /invalid port in upstream "10\.0\.0\.2:80800" in etc\/nginx\/nginx\.conf:3/,
    )
    expect(files(broken.root)).toEqual(before)

    const good = tree(
      [
        '  - text:',
        '      files: [etc/nginx/nginx.conf]',
        '      addresses: new',
        '      validate: nginx -t -q -c %s',
      ],
      { 'etc/nginx/nginx.conf': CONF },
    )
    const ok = await cutover(['apply', '--root', 'my root', '--yes'], good.dir)
    expect(ok.err).toBe('')
    expect(ok.code).toBe(0)
    expect(readFileSync(join(good.root, 'etc/nginx/nginx.conf'), 'utf8')).toBe(
      CONF.replace('10.0.0.1', '10.0.0.2'),
    )
  })
})
