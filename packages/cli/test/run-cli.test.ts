import { describe, expect, it } from 'vitest'
import { cliIn, ENV, SECRET, tree } from './review/kit.js'
import { runCli } from './run-cli.js'

// The in-process runner the tests use instead of spawning the binary: the CLI reads the directory
// and the environment given, and a run that would kill its process is refused.
describe('runCli', () => {
  it('plans in the directory given, with the environment given: the spec and root are relative to cwd', async () => {
    const dir = tree()
    const r = await cliIn(dir, ['plan', '--root', 'root'])
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
    expect(r.out).toContain('etc/app.conf')
    expect(r.out).not.toContain(SECRET)
  })

  it("without inherit, only the environment given: a secret's variable not given is an error", async () => {
    const dir = tree()
    const saved = process.env.REVIEW_DB_PASSWORD
    process.env.REVIEW_DB_PASSWORD = SECRET
    try {
      const r = await cliIn(dir, ['plan', '--root', 'root'], { NO_COLOR: '1' })
      expect(r.code).toBe(1)
      expect(r.err).toContain('REVIEW_DB_PASSWORD')
      const inherited = await runCli(['plan', '--root', 'root'], { cwd: dir })
      expect(inherited.err).toBe('')
      expect(inherited.code).toBe(0)
    } finally {
      if (saved === undefined) delete process.env.REVIEW_DB_PASSWORD
      else process.env.REVIEW_DB_PASSWORD = saved
    }
  })

  it('refuses an injected fault, which would kill the test worker, before running anything', async () => {
    await expect(
      runCli(['apply', '--root', 'root', '--yes'], {
        cwd: tree(),
        env: { ...ENV, CUTOVER_FAULT_INJECT: 'renamed:1' },
      }),
    ).rejects.toThrow(/CUTOVER_FAULT_INJECT would kill the test worker/)
    // without inherit too: recover and rollback read it from process.env, whatever io.env says
    process.env.CUTOVER_FAULT_INJECT = 'renamed:1'
    try {
      await expect(
        runCli(['plan', '--root', 'root'], { cwd: tree(), env: ENV, inherit: false }),
      ).rejects.toThrow(/CUTOVER_FAULT_INJECT would kill the test worker/)
    } finally {
      delete process.env.CUTOVER_FAULT_INJECT
    }
  })

  it('refuses a PATH (or another variable the product reads from process.env) other than its own', async () => {
    const envs: Array<Record<string, string>> = [
      { PATH: '/nonexistent' },
      { CUTOVER_TOOL_TIMEOUT_MS: '1' },
    ]
    for (const env of envs)
      await expect(runCli(['plan', '--root', 'root'], { cwd: tree(), env })).rejects.toThrow(
        /reads \w+ from process\.env, not io\.env/,
      )
    await expect(
      runCli(['plan', '--root', 'root'], { cwd: tree(), env: { PATH: '' }, inherit: false }),
    ).rejects.toThrow(/reads PATH from process\.env/)
  })
})
