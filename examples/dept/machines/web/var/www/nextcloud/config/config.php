<?php
$CONFIG = array (
  'instanceid' => 'oc8s2k1x9q4a',
  'trusted_domains' =>
  array (
    0 => 'cloud.dept.example.edu',
    1 => '172.20.0.10',
  ),
  'trusted_proxies' =>
  array (
    0 => '172.20.0.3',
  ),
  'overwriteprotocol' => 'https',
  'overwrite.cli.url' => 'https://cloud.dept.example.edu',
  'datadirectory' => '/var/www/nextcloud/data',
  'dbtype' => 'pgsql',
  'version' => '28.0.4.1',
  'dbname' => 'nextcloud',
  'dbhost' => '172.20.0.5:6432',
  'dbport' => '',
  'dbtableprefix' => 'oc_',
  'dbuser' => 'nextcloud',
  'mail_smtpmode' => 'smtp',
  'mail_smtphost' => '172.20.0.12',
  'mail_smtpport' => '25',
  'mail_domain' => 'dept.example.edu',
  'mail_from_address' => 'cloud',
  'memcache.local' => '\\OC\\Memcache\\APCu',
  'installed' => true,
);
