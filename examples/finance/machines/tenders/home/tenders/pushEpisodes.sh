#!/bin/sh
# Every ten minutes: changed episodes go to the tenders table of oasites on mapdata.
set -eu
psql -h 10.0.10.63 -U tenders -d tenders -c "\copy (select * from episodes where changed) to '/home/tenders/episodes.csv' csv"
psql -h 192.168.98.24 -U tenders -d oasites -c "\copy tenders.episodes_import from '/home/tenders/episodes.csv' csv"
psql -h 10.0.10.63 -U tenders -d tenders -c "update episodes set changed = false where changed"
