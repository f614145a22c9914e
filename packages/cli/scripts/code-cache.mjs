#!/usr/bin/env node
// node scripts/code-cache.mjs [LAUNCHER]: makes the code cache of each chunk of the bundle beside
// LAUNCHER (default dist/cutover.cjs; `<chunk>.cjs.cache`, read by src/cutover.cts); scripts/bundle.mjs
// runs it after the bundle. It runs the built command, as a user would, on a small tree of the
// common step kinds: its help, a plan and an apply; V8 then caches every function compiled by the
// end of a command, and a chunk keeps the largest of its caches. The commands set the V8 flags
// the launcher sets, which a cache must have been made under (another machine's heap limit may
// change them: its caches are then rejected and the chunks compiled as without them); so they run
// without the builder's NODE_OPTIONS (a heap limit there would make every cache one that a
// command run without it rejects) and without CUTOVER_DEBUG (the chunks then load by require(),
// and no cache would be made).
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const TRAINING = {
  'cutover.yaml': [
    'version: 1',
    'hosts:',
    '  db.example.org: { old: 10.0.10.48, new: 10.0.10.49 }',
    'steps:',
    '  - php: { files: ["**/*.php"], addresses: names }',
    '  - ini: { files: ["**/*.ini"], addresses: names }',
    '  - json: { files: ["**/*.json"], addresses: names }',
    '  - text: { files: ["**/*.conf", "**/*.txt"], addresses: names }',
    '',
  ].join('\n'),
  'www/config.php': "<?php\n$db = '10.0.10.48'; // the database\n$port = 5432;\n",
  'php/app.ini': '[db]\nhost = 10.0.10.48\nport = 5432\n',
  'app/settings.json': '{ "db": { "host": "10.0.10.48", "port": 5432 } }\n',
  'nginx/site.conf': 'upstream db { server 10.0.10.48:5432; }\n',
  'notes.txt': 'the database moved from 10.0.10.48\n',
}

/** Runs the command of `launcher` on the training tree, its caches written; throws when one fails. */
export function makeCodeCaches(launcher) {
  const env = { ...process.env, CUTOVER_BUILD_CODE_CACHE: '1', NO_COLOR: '1' }
  delete env.NODE_OPTIONS
  delete env.CUTOVER_DEBUG
  const training = mkdtempSync(join(tmpdir(), 'cutover-bundle-'))
  try {
    for (const [file, text] of Object.entries(TRAINING)) {
      mkdirSync(dirname(join(training, file)), { recursive: true })
      writeFileSync(join(training, file), text)
    }
    const commands = [
      ['--help'],
      ['plan', '--root', '.', '--out', 'plan.json'],
      ['apply', '--root', '.', '--yes', '--quiet', '--state-dir', 'state'],
    ]
    for (const args of commands) {
      const r = spawnSync(process.execPath, [launcher, ...args], {
        cwd: training,
        encoding: 'utf8',
        env,
      })
      if (r.status !== 0)
        throw new Error(`cutover ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
    }
  } finally {
    rmSync(training, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  makeCodeCaches(
    resolve(
      process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '../dist/cutover.cjs'),
    ),
  )
