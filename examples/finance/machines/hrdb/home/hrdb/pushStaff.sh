#!/bin/sh
# Every five minutes: staff changed since the last run go to timesheets and finance.
set -eu
psql -h 10.0.10.42 -U hrdb -d hrdb -Atc "select id from staff where updated > now() - interval '5 minutes'" >/home/hrdb/changed.txt
[ -s /home/hrdb/changed.txt ] || exit 0
psql -h 10.0.10.23 -U hrdb_sync -d timesheets -c "select refresh_staff()"
psql -h 10.0.10.48 -U hrdb_sync -d finance -c "select sync_staff_from_hrdb()"
