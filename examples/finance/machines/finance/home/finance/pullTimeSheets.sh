#!/bin/sh
# Pull the approved time sheets from the timesheets VM into finance.
# Called through sudo by www-data (see /etc/sudoers.d/finance).
set -eu
PERIOD="${1:?usage: pullTimeSheets.sh PERIOD}"
psql -h 10.0.10.23 -U finance -d timesheets -c "\copy (select * from approved_sheets where period = '$PERIOD') to '/home/finance/sheets.csv' csv"
psql -h 10.0.10.48 -U finance -d finance -c "\copy timesheet_import from '/home/finance/sheets.csv' csv"
