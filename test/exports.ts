import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import ts from 'typescript'

const repo = resolve(import.meta.dirname, '..')

/**
 * The names `packages/<pkg>/src/index.ts` exports (values and types) that carry no TSDoc
 * comment, following re-exports to their declarations. Namespace re-exports are skipped.
 */
export function undocumentedExports(pkg: string): string[] {
  const index = resolve(repo, 'packages', pkg, 'src/index.ts')
  const program = ts.createProgram([index], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
  })
  const checker = program.getTypeChecker()
  const mod = checker.getSymbolAtLocation(program.getSourceFile(index)!)!
  return checker
    .getExportsOfModule(mod)
    .filter((e) => {
      const s = e.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(e) : e
      if (s.flags & ts.SymbolFlags.ValueModule) return false
      return ts.displayPartsToString(s.getDocumentationComment(checker)).trim() === ''
    })
    .map((e) => e.name)
}

/** The runtime export names that the package's README (and the extra docs given) never mention. */
export function unlistedInReadme(
  pkg: string,
  names: readonly string[],
  extraDocs: readonly string[] = [],
): string[] {
  const text = ['README.md', ...extraDocs]
    .map((f) => readFileSync(resolve(repo, 'packages', pkg, f), 'utf8'))
    .join('\n')
  return names.filter((n) => !new RegExp(`\\b${n}\\b`).test(text))
}
