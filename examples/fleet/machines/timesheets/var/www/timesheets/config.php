<?php
// timesheets
$db = ['host' => '10.0.10.42', 'name' => 'timesheets'];
$finance_api = 'https://10.0.10.48/api';
