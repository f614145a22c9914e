export { jsStep, parseJs, type JsDocument, type JsOptions } from './step.js'
