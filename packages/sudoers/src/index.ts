export { parseSudoers, printSudoers } from './parse.js'
export {
  flattenRule,
  flattenRules,
  listAliases,
  memberKey,
  ruleKey,
  type FlatCommand,
} from './canon.js'
export {
  ALIAS_KEYWORD,
  ensureAlias,
  ensureRule,
  parseMember,
  parseRule,
  removeAlias,
  removeRule,
  renameHost,
  SudoersSyntaxError,
} from './edit.js'
export { checkSudoers, type CheckOptions } from './check.js'
export { lintSudoers, type LintOptions } from './lint.js'
export { sudoersChecksValidator, visudoValidator } from './validate.js'
export { sudoersEdits, sudoersStep, type AliasSpec, type SudoersOptions } from './step.js'
export type * from './types.js'
