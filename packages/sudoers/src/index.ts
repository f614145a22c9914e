export { parseSudoers, printSudoers } from './parse.js'
export { flattenRule, flattenRules, listAliases, memberKey, ruleKey, type FlatCommand } from './canon.js'
export type * from './types.js'
