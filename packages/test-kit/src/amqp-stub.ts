/**
 * What stands in for the amqp extension in tests: the broker table, and a publish() that records
 * its calls in amqp.published. The schema amqp must exist.
 */
export const AMQP_OBJECTS = `
CREATE TABLE amqp.broker (broker_id serial PRIMARY KEY, host text NOT NULL, port integer NOT NULL DEFAULT 5672,
  vhost text, username text, password text);
CREATE TABLE amqp.published (broker_id integer, exchange text, routing_key text, message text);
CREATE FUNCTION amqp.publish(broker_id integer, exchange varchar, routing_key varchar, message varchar,
  delivery_mode integer DEFAULT NULL, content_type varchar DEFAULT NULL, reply_to varchar DEFAULT NULL,
  correlation_id varchar DEFAULT NULL) RETURNS boolean LANGUAGE sql
  AS $$ INSERT INTO amqp.published VALUES ($1, $2, $3, $4); SELECT true $$;`

/** {@link AMQP_OBJECTS} with the schema that holds them. */
export const AMQP_STUB = `\nCREATE SCHEMA amqp;${AMQP_OBJECTS}`
