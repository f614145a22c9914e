#!/usr/bin/env node
// Bundles the `cutover` command (dist/bin.js, built by tsc, and what it imports) into
// dist/bundle/: an entry and the chunks it imports when a command or a step kind needs them.
// Node's start then loads a few files instead of hundreds (resolving, reading and compiling each
// ES module costs ≈ 0.4 ms; php-parser alone is 147 CommonJS files), which is most of the fixed
// cost of every command. The packages are published as they are: dist/ keeps tsc's unbundled
// output (the package's exports), the bundle is only what the bin runs (dist/cutover.cjs).
//
// What stays outside, imported from node_modules as before: libpg-query (it loads its
// WebAssembly from beside its own script), pg and ts-morph (large, loaded only by the SQL step's
// database and the js step); they are dependencies of this package so that the bundle finds them.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { makeCodeCaches } from './code-cache.mjs'

const cli = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const packages = resolve(cli, '..')
const outdir = join(cli, 'dist/bundle')
/** The first pass's ES module chunks, removed once the second pass has made them CommonJS. */
const esmdir = join(cli, 'dist/.bundle-esm')

/** Imported at run time, never bundled (see above); pg-native is pg's optional native client. */
const EXTERNAL = ['libpg-query', 'pg', 'pg-native', 'ts-morph']

/**
 * `import.meta.url` in a bundled module of the workspace means the URL that module has in
 * unbundled dist/ (the files it finds beside itself: the CLI's package.json and schema, the
 * review's stylesheet), not the bundle's: the CLI's own files are one level above the bundle,
 * another package's are found from its package.json.
 */
const metaUrl = {
  name: 'import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\/packages\/[^/]+\/dist\/.*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8')
      if (!text.includes('import.meta.url')) return undefined
      const [pkg, ...rest] = relative(packages, args.path).split(sep)
      const file = rest.join('/')
      const url =
        pkg === 'cli'
          ? `new URL(${JSON.stringify('../' + file.replace(/^dist\//, ''))}, import.meta.url).href`
          : `__cutoverFileUrl(${JSON.stringify(`@cutover/${pkg}`)}, ${JSON.stringify(file)})`
      return {
        contents: text.replaceAll('import.meta.url', url),
        loader: 'js',
        resolveDir: dirname(args.path),
      }
    })
  },
}

// Every output file may hold CommonJS modules (commander, php-parser) that call require() (the
// chunk's own, see below), and the URL of another package's file (see metaUrl).
const banner = [
  "import { pathToFileURL as __cutoverPathToFileURL } from 'node:url';",
  'const __cutoverFileUrl = (pkg, file) => new URL(file, __cutoverPathToFileURL(require.resolve(pkg + "/package.json"))).href;',
].join('\n')

await rm(outdir, { recursive: true, force: true })
await rm(esmdir, { recursive: true, force: true })
const result = await build({
  entryPoints: { cutover: join(cli, 'dist/bin.js') },
  outdir: esmdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: '[name]-[hash]',
  external: EXTERNAL,
  sourcemap: 'linked',
  sourcesContent: false,
  banner: { js: banner },
  plugins: [metaUrl],
  logLevel: 'warning',
  metafile: true,
  // jsonc-parser's main is a UMD build whose require() of its own files esbuild cannot follow;
  // its ES module build is the same library
  mainFields: ['module', 'main'],
  legalComments: 'inline',
})
if (result.errors.length) process.exit(1)
if (process.env.CUTOVER_BUNDLE_META)
  (await import('node:fs')).writeFileSync(
    process.env.CUTOVER_BUNDLE_META,
    JSON.stringify(result.metafile),
  )

// Second pass: each chunk becomes a CommonJS module (its imports require() calls that keep ES
// modules' live bindings, its dynamic imports promises of a require()), so that the launcher can
// compile it with a V8 code cache made below: Node 20's ES module loader takes none, and V8
// parsing and compiling the chunks was about a quarter of a small plan's CPU. Each chunk's own
// source map is chained into the new one.
// (`.js` files under a package.json of CommonJS: esbuild then gives a dynamic import of a chunk's
// `default` as an ES module's importer sees it, not as Node's importer of CommonJS would)
writeFileSync(join(esmdir, 'package.json'), '{ "type": "commonjs" }\n')
const chunks = readdirSync(esmdir).filter((f) => f.endsWith('.js'))
const commonjs = await build({
  entryPoints: Object.fromEntries(chunks.map((f) => [f.slice(0, -3), join(esmdir, f)])),
  outdir,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  outExtension: { '.js': '.cjs' },
  external: EXTERNAL,
  sourcemap: 'linked',
  sourcesContent: false,
  // the bin's chunk is loaded by the launcher, not run by node: no `#!` line
  supported: { 'dynamic-import': false },
  write: false,
  define: { 'import.meta.url': '__cutoverUrl' },
  // the chunks were ES modules, strict: esbuild's "use strict" comes after the banner, where it is
  // no directive, so the banner starts with one
  banner: {
    js: `"use strict";\nconst __cutoverUrl = require('node:url').pathToFileURL(__filename).href;`,
  },
  plugins: [
    {
      name: 'chunks',
      setup(b) {
        // another chunk stays a file of its own, required as the launcher loads it
        b.onResolve({ filter: /^\.\/.*\.js$/ }, (args) =>
          args.kind === 'entry-point'
            ? undefined
            : { path: args.path.replace(/\.js$/, '.cjs'), external: true },
        )
      },
    },
  ],
  logLevel: 'warning',
  legalComments: 'inline',
})
if (commonjs.errors.length) process.exit(1)
mkdirSync(outdir, { recursive: true })
for (const f of commonjs.outputFiles)
  // the bin's `#!` line, which a function's body cannot hold, becomes a comment of the same length
  writeFileSync(f.path, f.text.startsWith('#!') ? `//${f.text.slice(2)}` : f.contents)
await rm(esmdir, { recursive: true, force: true })

// the code cache of each chunk, made by running the built command (scripts/code-cache.mjs)
try {
  await makeCodeCaches(join(cli, 'dist/cutover.cjs'))
} catch (e) {
  process.stderr.write(`bundle: ${e.message}\n`)
  process.exit(1)
}
