import type { Context } from './step.js'

/**
 * Makes `build` (from a step's options, or another key, and the plan's context to what a step
 * kind uses on every file: matchers, compiled rules) run once per (key, context): the value is
 * kept for the context's plan and reused for each file, and dropped with the context.
 */
export function perContext<K, V>(build: (key: K, ctx: Context) => V): (key: K, ctx: Context) => V {
  const cache = new WeakMap<Context, Map<K, V>>()
  return (key, ctx) => {
    let byKey = cache.get(ctx)
    if (!byKey) cache.set(ctx, (byKey = new Map()))
    if (byKey.has(key)) return byKey.get(key)!
    const value = build(key, ctx)
    byKey.set(key, value)
    return value
  }
}
