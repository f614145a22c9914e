<?php
# HR database front end
$db_host = '10.0.10.42';
$db_name = 'hrdb';
$finance_host = "10.0.10.48";
$report_url = "http://10.0.10.42/reports/?user=$user";
