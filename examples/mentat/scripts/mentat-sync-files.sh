#!/bin/sh
# From the day before the migration: prefetch mentat-hub's file system data (root crontab:
# 35 */4 * * * /root/mentat-sync-files.sh), so that the final synchronization is quick.
set -eu
for dir in reports rrds cache run; do
    rsync -a --delete "root@mentat-hub.cesnet.cz:/var/mentat/$dir/" "/var/mentat/$dir/"
done
