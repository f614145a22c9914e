export { jsonNodeAt, jsonStep, parseJson, type JsonDocument, type JsonOptions } from './step.js'
