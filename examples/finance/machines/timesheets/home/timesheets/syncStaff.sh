#!/bin/sh
# Hourly: the staff list comes from HRDB; finance pulls approved sheets from here itself.
set -eu
psql -h 10.0.10.42 -U timesheets -d hrdb -c "\copy (select id, full_name, email from staff) to '/home/timesheets/staff.csv' csv"
psql -h 10.0.10.23 -U timesheets -d timesheets -c "\copy staff_import from '/home/timesheets/staff.csv' csv"
