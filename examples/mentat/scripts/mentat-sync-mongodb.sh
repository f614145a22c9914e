#!/bin/sh
# Trial period: import a fresh dump of mentat-hub's MongoDB into the local one (root crontab:
# 5 */4 * * * /root/mentat-sync-mongodb.sh).
set -eu
ssh root@mentat-hub.cesnet.cz /root/mentatdb-dump-all.sh
rsync -a --delete root@mentat-hub.cesnet.cz:/var/mentat/dumps/ /var/mentat/dumps/
mongorestore --drop --gzip --dir /var/mentat/dumps/latest
