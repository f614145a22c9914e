<?php
// Tenders portal
define('DB_HOST', '10.0.10.63');
define('DB_NAME', 'tenders');
define('FINANCE_DSN', 'pgsql:host=10.0.10.48;port=5432;dbname=finance');
define('PROJECTS_ROUTING_KEY', 'oas.projects');
