export {
  parseYaml,
  type YamlBlockHeader,
  type YamlDocument,
  type YamlPathSegment,
  type YamlScalar,
  type YamlStyle,
} from './parse.js'
export { yamlStep, type YamlOptions } from './step.js'
