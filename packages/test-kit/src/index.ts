// The helpers every package's tests share (a private package, never published).
export { financeContext } from './context.js'
export { CORPUS, corpusFiles, corpusPath, manifestFiles } from './corpus.js'
export { expectValidEdits, expectValidStepEdits, type EditFormat } from './edits.js'
export { changedLines, planText } from './steps.js'
export { hasTool, need } from './tools.js'
export { getent, glibcUnavailable } from './glibc.js'
export { fakeTools, type FakeTools } from './fake-tool.js'
export { cvtsudoers, visudo } from './sudoers.js'
