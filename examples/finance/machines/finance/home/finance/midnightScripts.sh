#!/bin/sh
# Nightly: refresh staff from HRDB, then export slips to tenders.
set -eu
pg_dump -h 10.0.10.42 -U finance -t staff hrdb | psql -h 10.0.10.48 -U finance finance
curl -fsS "http://10.0.10.63/tenders/api/refresh" >/dev/null
# archives-db (10.0.10.130) is reached through the AMQP broker, not directly
