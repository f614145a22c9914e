<?php
// finance web app
define('DB_HOST', '10.0.10.42');        // hrdb
define('AMQP_HOST', '10.0.10.107');
$timesheets_url = 'http://10.0.10.23/api';
