export { parseIni, type IniDocument, type IniEntry, type IniSpan } from './parse.js'
export { iniStep, type IniOptions } from './step.js'
