// The tree scripts/code-cache.mjs trains the code caches on, and the commands it runs there. It
// names every step kind and whole-file step the bundled examples (examples/*/cutover.yaml) use,
// so that their plans and applies find a cache for every chunk they load: a tree of one root
// (`one/`: planned, then applied) and a fleet of two local machines (`fleet/`: applied, which
// plans it too; it loads the fleet's chunks), its one profile touching every rule (TTL, records,
// reverse zones, variants). Small files: the time goes to loading and compiling the code.
//
// No step may need a tool the build machine may lack: the validators that run one (php-lint,
// named-checkzone, visudo) are skipped with a warning when it is missing, the rest run in
// process. The sudoers file is 0644 whatever the umask, as a checkout of the examples has it: a
// warning (visudo wants 0440), where a file group or others may write is an error, and 0440 is
// one a builder who is not root cannot replace (owned by whoever builds: a warning when not root).
// The secret comes from the training's environment.

/** The secret of the fleet's `php` step, set in the environment of the training's commands. */
export const SECRET_ENV = { CUTOVER_TRAINING_SECRET: 'training-only' }

const ONE_SPEC = [
  'version: 1',
  'hosts:',
  '  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }',
  'steps:',
  '  - php: { files: ["**/*.php"], addresses: names }',
  '  - ini: { files: ["**/*.ini"], addresses: names }',
  '  - json: { files: ["**/*.json"], addresses: names }',
  '  - text: { files: ["**/*.conf", "**/*.txt"], addresses: names }',
  '',
]

const FLEET_SPEC = [
  'version: 1',
  'machines:',
  '  web: { root: machines/web }',
  '  ns: { root: machines/ns }',
  'hosts:',
  '  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }',
  '  web.example.org: { old: 10.0.10.20, new: 10.0.10.21 }',
  '  mq.example.org: { old: 10.0.10.107, new: 10.0.10.107 }',
  'networks:',
  '  - { old: 10.0.10.0/24, new: 10.0.10.0/24 }',
  'profiles: [test, live]',
  'variants:',
  '  keys:',
  '    - { test: app.staff.test, live: app.staff }',
  'secrets:',
  '  DB_PASSWORD: { env: CUTOVER_TRAINING_SECRET }',
  'scan:',
  '  files: ["etc/**", "srv/**"]',
  'steps:',
  '  - zone:',
  '      on: [ns]',
  '      files: [etc/bind/db.example.org]',
  '      ttl: { live: 300 }',
  '      records: { live: new }',
  '      reverse: [etc/bind/db.10.0.10]',
  '  - php:',
  '      on: [web]',
  '      files: ["srv/www/*.php"]',
  '      addresses: names',
  '      variants: [keys]',
  '      set: { DB_PASSWORD: { secret: DB_PASSWORD } }',
  '  - ini: { on: [web], files: [etc/app/app.ini], addresses: new, keys: [db.listen] }',
  '  - json: { on: [web], files: [srv/app/settings.json], addresses: names }',
  '  - sql:',
  '      on: [web]',
  '      files: ["srv/backup/*-schema.sql"]',
  '      functions: ["public.pull_*"]',
  '      tables: [public.broker]',
  '      addresses: names',
  '      variants: [keys]',
  '      passwords: { db.example.org: { secret: DB_PASSWORD } }',
  '  - yaml: { files: [etc/netplan/01-netcfg.yaml], addresses: new }',
  '  - text: { on: [web], files: ["etc/cron.d/*"], addresses: names }',
  '  - text: { on: [web], files: [etc/app/consumer.conf], variants: [keys] }',
  '  - hosts: { files: [etc/hosts], ensure: new }',
  '  - sudoers:',
  '      on: [web]',
  '      files: [etc/sudoers.d/app]',
  '      aliases: { APPSYNC: ["/usr/local/bin/app-sync --all"] }',
  '      rules: ["www-data ALL=(app) NOPASSWD: APPSYNC"]',
  '  - copy: { from: web:srv/shared/, to: ns:srv/shared/ }',
  '  - exchange: { pairs: [[web:etc/hostname, ns:etc/hostname]] }',
  '',
]

const ZONE = [
  '$TTL 86400',
  '$ORIGIN example.org.',
  '@\tIN\tSOA\tns.example.org. hostmaster.example.org. ( 2026010101 3600 900 1209600 86400 )',
  '\tIN\tNS\tns',
  'ns\tIN\tA\t10.0.10.2',
  'db\tIN\tA\t10.0.10.48',
  'web\tIN\tA\t10.0.10.20',
  'mq\tIN\tA\t10.0.10.107',
  '',
]

const REVERSE = [
  '$TTL 86400',
  '@\tIN\tSOA\tns.example.org. hostmaster.example.org. ( 2026010101 3600 900 1209600 86400 )',
  '\tIN\tNS\tns.example.org.',
  '2\tIN\tPTR\tns.example.org.',
  '20\tIN\tPTR\tweb.example.org.',
  '48\tIN\tPTR\tdb.example.org.',
  '',
]

const DUMP = [
  "SET client_encoding = 'UTF8';",
  '',
  'CREATE FUNCTION public.pull_staff() RETURNS integer',
  '    LANGUAGE plpgsql',
  '    AS $$',
  'BEGIN',
  "    PERFORM public.dblink_exec('host=10.0.10.48 dbname=app user=app password=app-pw-2019', 'SELECT 1');",
  "    PERFORM amqp.publish(1, 'amq.topic', 'app.staff.test', 'x');",
  '    RETURN 1;',
  'END;',
  '$$;',
  '',
  'CREATE TABLE public.broker (id integer, host text, port integer);',
  '',
  'COPY public.broker (id, host, port) FROM stdin;',
  '1\t10.0.10.107\t5672',
  '\\.',
  '',
]

const HOSTS = [
  '127.0.0.1\tlocalhost',
  '10.0.10.48\tdb.example.org db',
  '10.0.10.20\tweb.example.org web',
  '',
]

const NETPLAN = [
  'network:',
  '  version: 2',
  '  ethernets:',
  '    ens18:',
  '      addresses: [10.0.10.20/24]',
  '      routes:',
  '        - to: default',
  '          via: 10.0.10.1',
  '      nameservers:',
  '        addresses: [10.0.10.2]',
  '',
]

/** Path (within the training directory) → text, or `{ text, mode }`. */
export const TREE = {
  'one/cutover.yaml': ONE_SPEC.join('\n'),
  'one/www/config.php': "<?php\n$db = '10.0.10.48'; // the database\n$port = 5432;\n",
  'one/php/app.ini': '[db]\nhost = 10.0.10.48\nport = 5432\n',
  'one/app/settings.json': '{ "db": { "host": "10.0.10.48", "port": 5432 } }\n',
  'one/nginx/site.conf': 'upstream db { server 10.0.10.48:5432; }\n',
  'one/notes.txt': 'the database moved from 10.0.10.48\n',

  'fleet/cutover.yaml': FLEET_SPEC.join('\n'),
  'fleet/machines/ns/etc/bind/db.example.org': ZONE.join('\n'),
  'fleet/machines/ns/etc/bind/db.10.0.10': REVERSE.join('\n'),
  'fleet/machines/ns/etc/hosts': HOSTS.join('\n'),
  'fleet/machines/ns/etc/hostname': 'ns\n',
  'fleet/machines/ns/etc/netplan/01-netcfg.yaml': NETPLAN.join('\n').replace('.20/', '.2/'),
  'fleet/machines/web/etc/hosts': HOSTS.join('\n'),
  'fleet/machines/web/etc/hostname': 'web\n',
  'fleet/machines/web/etc/netplan/01-netcfg.yaml': NETPLAN.join('\n'),
  'fleet/machines/web/etc/app/app.ini': '[db]\nhost = 10.0.10.48\nlisten = 10.0.10.20\n',
  'fleet/machines/web/etc/app/consumer.conf': 'bind queue app.staff.test\n',
  'fleet/machines/web/etc/cron.d/app': '0 1 * * * app pg_dump -h 10.0.10.48 app\n',
  'fleet/machines/web/etc/sudoers.d/app': {
    text: '# the app\nCmnd_Alias APPSYNC = /usr/local/bin/app-sync\n',
    mode: 0o644,
  },
  'fleet/machines/web/srv/www/config.php': [
    '<?php',
    "define('DB_HOST', '10.0.10.48');",
    "define('DB_PASSWORD', 'app-pw-2019');",
    "$queue = 'app.staff.test';",
    '',
  ].join('\n'),
  'fleet/machines/web/srv/app/settings.json': '{ "db": { "host": "10.0.10.48" } }\n',
  'fleet/machines/web/srv/backup/app-schema.sql': DUMP.join('\n'),
  'fleet/machines/web/srv/shared/motd': 'maintenance on Sunday\n',
}

/**
 * The commands. A chunk keeps the largest of its caches, and a command loads the caches made
 * before it and caches them again with what it compiled: the main chunk's ends as the union of
 * the two applies' (770 KB; the fleet's apply alone 764 KB, the one root's 684 KB). A plan of the
 * fleet besides its apply added nothing the examples load and cost ≈ 0.7 s.
 */
export const COMMANDS = [
  { cwd: '.', args: ['--help'] },
  { cwd: 'one', args: ['plan', '--root', '.', '--out', '../plan.json'] },
  { cwd: 'one', args: ['apply', '--root', '.', '--yes', '--quiet', '--state-dir', 'state'] },
  { cwd: 'fleet', args: ['apply', '--profile', 'live', '--yes'] },
]
