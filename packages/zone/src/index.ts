export {
  absoluteName,
  entryAt,
  isClass,
  isTtl,
  parseZone,
  printZone,
  recordType,
  spanText,
  ttlSeconds,
  type ParseZoneOptions,
  type Span,
  type ZoneDocument,
  type ZoneEntry,
  type ZoneEntryKind,
  type ZoneToken,
} from './parse.js'
export { ZoneError, type ZoneErrorCode } from './errors.js'
