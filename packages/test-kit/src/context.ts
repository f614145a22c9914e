import type { Context } from '@cutover/rewrite'

/**
 * A planning context like the engine's, for the tests of the step kinds: the finance inventory,
 * the routing-key variants, profile `test` unless given, secrets from `secrets`.
 */
export function financeContext(
  over: Partial<Context> & { secrets?: Record<string, string> } = {},
): Context {
  const { secrets = {}, ...rest } = over
  return {
    root: '/',
    profile: 'test',
    profiles: ['test', 'live'],
    inventory: [
      { name: 'finance.thehumanjourney.net', old: '10.0.10.48', new: '10.0.10.49' },
      { name: 'rabbitmq.thehumanjourney.net', old: '10.0.10.107', new: '10.0.10.107' },
    ],
    variants: {
      'routing-keys': [
        { test: 'oas.staff.test', live: 'oas.staff' },
        { test: 'oas.projects.test', live: 'oas.projects' },
      ],
    },
    secret: (n) => {
      const v = secrets[n]
      if (v === undefined) throw new Error(`secret ${n} not set`)
      return v
    },
    ...rest,
  }
}
