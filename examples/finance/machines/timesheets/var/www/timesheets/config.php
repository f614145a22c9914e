<?php
// Timesheets: reads staff from finance, writes its own database.
$config = [
    'db' => [
        'host'     => env('DB_HOST', '10.0.10.23'),
        'port'     => 5432,
        'name'     => 'timesheets',
        'user'     => 'timesheets',
        'password' => env('DB_PASSWORD', ''),
    ],
    'finance_dsn' => 'pgsql:host=10.0.10.48;dbname=finance',
    'publish'     => ['routing_key' => 'oas.staff'],
];

function env($name, $default = null)
{
    $value = getenv($name);
    return $value === false ? $default : $value;
}
