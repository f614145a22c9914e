<?php
/*
 * Finance web application configuration.
 * The database moved off 10.0.10.48 at the cutover: hosts are DNS names from now on.
 */
define('DB_HOST', '10.0.10.48');
define('DB_NAME', 'finance');
define('DB_USER', 'finance_web');
define('DB_PASSWORD', 'change-me-at-cutover');

$databases = array(
    'finance'    => array('dsn' => 'pgsql:host=10.0.10.48;port=5432;dbname=finance'),
    'timesheets' => array('dsn' => "pgsql:host=10.0.10.23;port=5432;dbname=timesheets;user=$dbuser"),
    'archives'   => array('dsn' => 'pgsql:host=10.0.10.130;port=5432;dbname=archives'),
);

// dblink connection string used by the nightly reconciliation
$reconcile = <<<EOT
host=10.0.10.42 dbname=hrdb user=$dbuser
EOT;

$amqp = array(
    'host'         => '10.0.10.107',
    'exchange'     => 'oas',
    'routing_keys' => array('oas.staff', 'oas.projects'),
);

// old fallback, kept for reference: 10.0.10.48
$maps = 'http://192.168.98.24/tiles/';
