import { isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml'
import type { Diagnostic, Range } from '../diff/diagnostic.js'

/** Names a spec defines, for cross-reference checks while validating. */
export interface SpecRefs {
  profiles: readonly string[]
  variants: readonly string[]
  secrets: readonly string[]
  hosts: readonly string[]
  /** The machines of `machines:`; empty when the spec has none (then `on` is an error). */
  machines: readonly string[]
  /** The groups of the Ansible inventory the machines come from (`@group` in `on`); none otherwise. */
  groups?: Readonly<Record<string, readonly string[]>>
}

/** State shared by one validation: every error is collected, none is thrown. */
export interface SchemaContext {
  doc: Document
  errors: Diagnostic[]
  refs: SpecRefs
  /** Each `{ secret: NAME }` read while validating (its step is filled in by the spec). */
  secretUses?: Array<{ name: string; step: number; range: Range }>
}

/** JSON Schema (draft 2020-12) as a plain object. */
export type JsonSchema = Record<string, unknown>

/**
 * A validator for one YAML node that yields a typed value, and the JSON Schema describing the
 * same shape: the spec's validator and its published schema come from one definition.
 */
export interface Schema<T> {
  /** What is expected, for messages: `a string`, `a list of globs`. */
  readonly expected: string
  /** Validates `node`; returns the value, or `undefined` after pushing diagnostics. */
  parse(node: unknown, ctx: SchemaContext, at: Range): T | undefined
  /** The JSON Schema of this shape. */
  json(): JsonSchema
}

/** The value type a {@link Schema} yields: `Infer<typeof options>` is a step's options type. */
export type Infer<S> = S extends Schema<infer T> ? T : never

/** The source range of a YAML node, or `fallback` when it has none. */
export function rangeOf(node: unknown, fallback: Range): Range {
  const r = (node as { range?: [number, number, number] } | null)?.range
  return r ? { start: r[0], end: r[1] } : fallback
}

function deref(node: unknown, ctx: SchemaContext): unknown {
  return isAlias(node) ? node.resolve(ctx.doc) : node
}

function typeName(node: unknown): string {
  if (node == null) return 'nothing'
  if (isMap(node)) return 'a mapping'
  if (isSeq(node)) return 'a list'
  if (isScalar(node)) {
    const v = node.value
    if (v === null) return 'nothing'
    if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}"`
    return String(v)
  }
  return 'something else'
}

/** Pushes an `expected X, got Y` diagnostic. */
export function expectedError(
  ctx: SchemaContext,
  node: unknown,
  at: Range,
  expected: string,
  code = 'SPEC_TYPE',
): undefined {
  ctx.errors.push({
    code,
    message: `expected ${expected}, got ${typeName(node)}`,
    range: rangeOf(node, at),
  })
  return undefined
}

interface StringOptions {
  pattern?: RegExp
  describe?: string
  check?: (v: string, ctx: SchemaContext) => string | undefined
}

/** A string scalar; numbers such as `10.0.10.48` are never numbers in YAML, but `5432` is. */
export function string(options: StringOptions = {}): Schema<string> {
  const expected = options.describe ?? 'a string'
  return {
    expected,
    parse(node, ctx, at) {
      node = deref(node, ctx)
      if (!isScalar(node) || node.value === null || typeof node.value === 'object')
        return expectedError(ctx, node, at, expected)
      const v =
        typeof node.value === 'string'
          ? node.value
          : isPlainNumber(node)
            ? String(node.source ?? node.value)
            : undefined
      if (v === undefined) return expectedError(ctx, node, at, expected)
      if (options.pattern && !options.pattern.test(v))
        return expectedError(ctx, node, at, expected, 'SPEC_VALUE')
      const problem = options.check?.(v, ctx)
      if (problem) {
        ctx.errors.push({ code: 'SPEC_VALUE', message: problem, range: rangeOf(node, at) })
        return undefined
      }
      return v
    },
    json: () => ({
      type: 'string',
      ...(options.pattern ? { pattern: options.pattern.source } : {}),
      description: expected,
    }),
  }
}

function isPlainNumber(node: { value: unknown }): boolean {
  return typeof node.value === 'number'
}

/** An integer scalar. */
export function integer(describe = 'a whole number'): Schema<number> {
  return {
    expected: describe,
    parse(node, ctx, at) {
      node = deref(node, ctx)
      if (isScalar(node) && typeof node.value === 'number' && Number.isInteger(node.value))
        return node.value
      return expectedError(ctx, node, at, describe)
    },
    json: () => ({ type: 'integer' }),
  }
}

/** `true` or `false`. */
export function boolean(): Schema<boolean> {
  return {
    expected: 'true or false',
    parse(node, ctx, at) {
      node = deref(node, ctx)
      if (isScalar(node) && typeof node.value === 'boolean') return node.value
      return expectedError(ctx, node, at, 'true or false')
    },
    json: () => ({ type: 'boolean' }),
  }
}

/** One of fixed string values. */
export function oneOf<const V extends string>(values: readonly V[]): Schema<V> {
  const expected = values.map((v) => `"${v}"`).join(' or ')
  return {
    expected,
    parse(node, ctx, at) {
      node = deref(node, ctx)
      if (isScalar(node) && (values as readonly unknown[]).includes(node.value))
        return node.value as V
      return expectedError(ctx, node, at, expected, 'SPEC_VALUE')
    },
    json: () => ({ enum: [...values] }),
  }
}

/** A list of items; a lone item where a list is expected is an error (no silent coercion). */
export function array<T>(
  item: Schema<T>,
  options: { minItems?: number; describe?: string } = {},
): Schema<T[]> {
  const expected = options.describe ?? `a list of ${item.expected.replace(/^an? /, '')}s`
  return {
    expected,
    parse(node, ctx, at) {
      node = deref(node, ctx)
      if (!isSeq(node)) return expectedError(ctx, node, at, expected)
      const out: T[] = []
      let ok = true
      for (const it of node.items) {
        const v = item.parse(it, ctx, rangeOf(node, at))
        if (v === undefined) ok = false
        else out.push(v)
      }
      if (ok && options.minItems && out.length < options.minItems) {
        ctx.errors.push({
          code: 'SPEC_VALUE',
          message: `expected at least ${options.minItems} item${options.minItems > 1 ? 's' : ''}`,
          range: rangeOf(node, at),
        })
        return undefined
      }
      return ok ? out : undefined
    },
    json: () => ({
      type: 'array',
      items: item.json(),
      ...(options.minItems ? { minItems: options.minItems } : {}),
    }),
  }
}

/** A mapping with free keys (checked by `key`) and values of one shape. */
export function record<T>(
  value: Schema<T>,
  options: { key?: Schema<string>; describe?: string } = {},
): Schema<Record<string, T>> {
  const expected =
    options.describe ?? `a mapping of names to ${value.expected.replace(/^an? /, '')}`
  return {
    expected,
    parse(node, ctx, at) {
      node = deref(node, ctx)
      if (!isMap(node)) return expectedError(ctx, node, at, expected)
      const out: Record<string, T> = Object.create(null)
      let ok = true
      for (const pair of node.items) {
        const key = options.key
          ? options.key.parse(pair.key, ctx, at)
          : keyString(pair.key, ctx, at)
        if (key === undefined) {
          ok = false
          continue
        }
        if (key in out) {
          ctx.errors.push({
            code: 'SPEC_DUPLICATE',
            message: `"${key}" is given twice`,
            range: rangeOf(pair.key, at),
          })
          ok = false
          continue
        }
        const v = value.parse(pair.value, ctx, rangeOf(pair.key, at))
        if (v === undefined) ok = false
        else out[key] = v
      }
      return ok ? { ...out } : undefined
    },
    json: () => ({
      type: 'object',
      additionalProperties: value.json(),
      ...(options.key ? { propertyNames: options.key.json() } : {}),
    }),
  }
}

function keyString(node: unknown, ctx: SchemaContext, at: Range): string | undefined {
  if (isScalar(node) && node.value !== null && typeof node.value !== 'object')
    return String(node.source ?? node.value)
  return expectedError(ctx, node, at, 'a plain key')
}

type Shape = Record<string, Schema<unknown>>
type ObjectOf<S extends Shape, R extends keyof S> = { [K in R]: Infer<S[K]> } & {
  [K in Exclude<keyof S, R>]?: Infer<S[K]>
}

/**
 * A mapping with known keys: an unknown key is an error listing the known ones; a missing
 * required key is an error at the mapping.
 */
export function object<S extends Shape, R extends keyof S & string = never>(
  shape: S,
  options: {
    required?: readonly R[]
    describe?: string
    check?: (v: ObjectOf<S, R>, node: Node, ctx: SchemaContext) => void
  } = {},
): Schema<ObjectOf<S, R>> & { shape: S } {
  const required = options.required ?? []
  const expected = options.describe ?? `a mapping with ${Object.keys(shape).join(', ')}`
  return {
    shape,
    expected,
    parse(node, ctx, at) {
      node = deref(node, ctx)
      if (!isMap(node)) return expectedError(ctx, node, at, expected)
      const out: Record<string, unknown> = {}
      let ok = true
      for (const pair of node.items) {
        const key = keyString(pair.key, ctx, at)
        if (key === undefined) {
          ok = false
          continue
        }
        const sub = shape[key]
        if (!sub) {
          ctx.errors.push({
            code: 'SPEC_UNKNOWN_KEY',
            message: `unknown key "${key}"; expected one of: ${Object.keys(shape).join(', ')}`,
            range: rangeOf(pair.key, at),
          })
          ok = false
          continue
        }
        if (key in out) {
          ctx.errors.push({
            code: 'SPEC_DUPLICATE',
            message: `"${key}" is given twice`,
            range: rangeOf(pair.key, at),
          })
          ok = false
          continue
        }
        const v = sub.parse(pair.value, ctx, rangeOf(pair.key, at))
        if (v === undefined) ok = false
        else out[key] = v
      }
      for (const r of required) {
        if (!node.items.some((p) => isScalar(p.key) && p.key.value === r)) {
          ctx.errors.push({
            code: 'SPEC_MISSING_KEY',
            message: `missing key "${r}" (${shape[r]!.expected})`,
            range: rangeOf(node, at),
          })
          ok = false
        }
      }
      if (!ok) return undefined
      const value = out as ObjectOf<S, R>
      if (options.check) {
        const before = ctx.errors.length
        options.check(value, node, ctx)
        if (ctx.errors.length > before) return undefined
      }
      return value
    },
    json: () => ({
      type: 'object',
      properties: Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, s.json()])),
      ...(required.length ? { required: [...required] } : {}),
      additionalProperties: false,
    }),
  }
}

/** The first alternative whose node kind fits (scalar, list or mapping) decides the errors. */
export function union<A, B>(a: Schema<A>, b: Schema<B>, describe?: string): Schema<A | B> {
  const expected = describe ?? `${a.expected} or ${b.expected}`
  return {
    expected,
    parse(node, ctx, at) {
      const resolved = deref(node, ctx)
      for (const alt of [a, b] as Schema<A | B>[]) {
        const scratch: SchemaContext = { ...ctx, errors: [] }
        const v = alt.parse(resolved, scratch, at)
        if (v !== undefined) return v
        if (
          scratch.errors.every(
            (e) => e.code !== 'SPEC_TYPE' || e.range.start !== rangeOf(resolved, at).start,
          )
        ) {
          ctx.errors.push(...scratch.errors)
          return undefined
        }
      }
      return expectedError(ctx, resolved, at, expected)
    },
    json: () => ({ anyOf: [a.json(), b.json()], description: expected }),
  }
}

/**
 * Adds a check (cross-references, value rules) to a schema; the check pushes diagnostics. `json`,
 * when given, states the check in JSON Schema terms (e.g. `const`, `uniqueItems`) on top of the
 * base schema's; cross-references have no JSON Schema form and are the validator's alone.
 */
export function refine<T>(
  schema: Schema<T>,
  check: (v: T, node: unknown, ctx: SchemaContext, at: Range) => string | undefined,
  json?: (base: JsonSchema) => JsonSchema,
): Schema<T> {
  return {
    expected: schema.expected,
    parse(node, ctx, at) {
      const v = schema.parse(node, ctx, at)
      if (v === undefined) return undefined
      const problem = check(v, deref(node, ctx), ctx, at)
      if (problem) {
        ctx.errors.push({
          code: 'SPEC_VALUE',
          message: problem,
          range: rangeOf(deref(node, ctx), at),
        })
        return undefined
      }
      return v
    },
    json: json ? () => json(schema.json()) : schema.json,
  }
}

/** Walks the pairs of a YAML mapping node (aliases resolved), for schemas that need keys and nodes. */
export function mapPairs(
  node: unknown,
  ctx: SchemaContext,
): Array<{ key: unknown; value: unknown }> | undefined {
  node = deref(node, ctx)
  if (!isMap(node)) return undefined
  return node.items.filter(isPair).map((p) => ({ key: p.key, value: p.value }))
}
