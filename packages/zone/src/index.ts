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
export {
  bumpSerial,
  effectiveTtls,
  inZone,
  movePtrs,
  nextSerial,
  reverseName,
  setAddress,
  setDefaultTtl,
  setRecordTtl,
  soaOf,
  type PtrMove,
  type SerialMode,
} from './edit.js'
export { planZone, type ZoneIntent, type ZonePlan } from './plan.js'
export { namedCheckzoneValidator, zoneOrigin } from './validate.js'
export { zoneStep, type ZoneOptions } from './step.js'
export { ZoneError, type ZoneErrorCode } from './errors.js'
