// One entry per format; `@cutover/formats/php` (and ini, json, js, yaml) loads one format's parser alone.
export * from './php/index.js'
export * from './ini/index.js'
export * from './json/index.js'
export * from './js/index.js'
export * from './yaml/index.js'
