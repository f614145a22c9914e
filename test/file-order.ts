import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * What the order needs of a test file: its path from the repository's root, whether its project
 * isolates it (a process of its own: the heavy projects), and its project's group.
 */
export interface OrderedFile {
  path: string
  isolated: boolean
  group: number
}

/**
 * The order of a run: by group (the temp check's comes last), then the isolated files, longest
 * first by `seconds` (a file not listed first of all: it may be long), then the files of the
 * projects that share a worker between files, in `files`' order (vitest's: by project, so that
 * a worker keeps serving one project's files). The long files start while every worker is free
 * and the many short ones fill the end: with vitest's own order (by project name, then by size)
 * the sshd files, 114 s the longest, started in the last 2 minutes of a 630 s run.
 */
export function longestFirst<T extends OrderedFile>(
  files: readonly T[],
  seconds: Readonly<Record<string, number>>,
): T[] {
  const time = (f: T) => seconds[f.path] ?? Infinity
  // a stable sort: files of equal keys keep their order in `files`
  return [...files].sort((a, b) => {
    if (a.group !== b.group) return a.group - b.group
    if (a.isolated !== b.isolated) return a.isolated ? -1 : 1
    if (!a.isolated || time(a) === time(b)) return 0
    return time(b) - time(a)
  })
}

/** The seconds each file took in a full run (test/file-times.json; `{}` when absent or unreadable). */
export function fileTimes(file: string): Record<string, number> {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { seconds?: Record<string, number> }
    return parsed.seconds ?? {}
  } catch {
    return {}
  }
}

/** vitest's sequencer with {@link longestFirst} applied to its order. */
export class LongestFirst extends BaseSequencer {
  override async sort(specs: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(specs)
    const root = this.ctx.config.root
    const seconds = fileTimes(`${root}/test/file-times.json`)
    const files = base.map((spec) => ({
      spec,
      path: relative(root, spec.moduleId),
      isolated: spec.project.config.isolate,
      group: spec.project.config.sequence.groupOrder ?? 0,
    }))
    return longestFirst(files, seconds).map((f) => f.spec)
  }
}
