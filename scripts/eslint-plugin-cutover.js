// The project's own ESLint rules (used by eslint.config.js).
//
// `cutover/no-cycle`: no circular import, type-only or not (issue 16). eslint-plugin-import-x's
// `no-cycle` skips `import type` and does not follow `import()`, so it cannot see the circles this
// code base has; this rule follows every module reference — `import`, `import type`,
// `export … from`, `import()` (also in a type position) and `require` — between files of the
// repository, and `@cutover/<name>` to `packages/<name>/src/index.ts`. An import is reported when
// the file it names leads back to the importing file; the message shows the way round.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import ts from 'typescript'

/** Module specifiers of a file on disk, cached by path and modification time. */
const specifiersCache = new Map()
function specifiersOf(file) {
  const mtime = statSync(file).mtimeMs
  const hit = specifiersCache.get(file)
  if (hit && hit.mtime === mtime) return hit.specifiers
  const specifiers = ts
    .preProcessFile(readFileSync(file, 'utf8'), true, true)
    .importedFiles.map((f) => f.fileName)
  specifiersCache.set(file, { mtime, specifiers })
  return specifiers
}

const SOURCE = /\.(m|c)?(t|j)s$/

/** The file of the repository that `specifier`, written in `from`, names; undefined for a package outside. */
function resolveSpecifier(from, specifier) {
  if (specifier.startsWith('.')) {
    const base = resolve(dirname(from), specifier)
    const stem = base.replace(/\.(m|c)?js$/, '')
    const candidates = SOURCE.test(base)
      ? [`${stem}.ts`, `${stem}.mts`, `${stem}.cts`, base]
      : [`${base}.ts`, `${base}/index.ts`, base]
    return candidates.find((c) => existsSync(c) && statSync(c).isFile())
  }
  const pkg = /^@cutover\/([^/]+)$/.exec(specifier)
  const root = /^(.*)[\\/]packages[\\/][^\\/]+[\\/]/.exec(from)?.[1]
  if (pkg && root) {
    const entry = resolve(root, 'packages', pkg[1], 'src', 'index.ts')
    if (existsSync(entry)) return entry
  }
  return undefined
}

/** A way from `start` to `goal` through the import graph (the files after `start`), or undefined. */
function findPath(start, goal) {
  const seen = new Set([start])
  const queue = [[start]]
  while (queue.length > 0) {
    const path = queue.shift()
    const at = path[path.length - 1]
    for (const specifier of specifiersOf(at)) {
      const next = resolveSpecifier(at, specifier)
      if (!next) continue
      if (next === goal) return [...path, next]
      if (seen.has(next)) continue
      seen.add(next)
      queue.push([...path, next])
    }
  }
  return undefined
}

const noCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'No circular import between files, type-only or not.' },
    schema: [],
    messages: { cycle: 'import cycle: {{route}}' },
  },
  create(context) {
    const file = context.physicalFilename
    if (!existsSync(file)) return {}
    const cwd = context.cwd
    const check = (node, source) => {
      if (!source || source.type !== 'Literal' || typeof source.value !== 'string') return
      const target = resolveSpecifier(file, source.value)
      if (!target || target === file) return
      const path = findPath(target, file)
      if (path)
        context.report({
          node,
          messageId: 'cycle',
          data: { route: [file, ...path].map((p) => relative(cwd, p)).join(' -> ') },
        })
    }
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportType: (node) =>
        check(
          node,
          node.source ??
            (node.argument?.type === 'TSLiteralType' ? node.argument.literal : node.argument),
        ),
      TSExternalModuleReference: (node) => check(node, node.expression),
      'CallExpression[callee.name="require"]': (node) => check(node, node.arguments[0]),
    }
  },
}

export default { meta: { name: 'cutover' }, rules: { 'no-cycle': noCycle } }
