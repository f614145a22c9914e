// PostgreSQL for the tests: a server reached over the wire protocol (PGlite, or a real one named
// by CUTOVER_TEST_PG_URL), PGlite in process, and the stand-in for the amqp extension.
export { AMQP_OBJECTS, AMQP_STUB } from './amqp-stub.js'
export { inProcessPg, newPglite } from './pglite.js'
export { exec, startPg, type PgServer } from './pg-server.js'
