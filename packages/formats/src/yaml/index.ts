export {
  parseYaml,
  type YamlDocument,
  type YamlPathSegment,
  type YamlScalar,
  type YamlStyle,
} from './parse.js'
