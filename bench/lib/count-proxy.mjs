#!/usr/bin/env node
// ssh ProxyCommand that counts the wire bytes of one connection: node count-proxy.mjs HOST PORT LOG.
// Appends `open` when connected and `close TO FROM` (bytes to the machine, from it) when the
// connection ends. ssh sends SIGHUP when it exits: ignored, the counts are written once both
// directions have ended, so the last bytes ssh wrote are counted.
import { appendFileSync } from 'node:fs'
import { connect } from 'node:net'

const [host, port, log] = process.argv.slice(2)
let to = 0
let from = 0
let done = false
const finish = () => {
  if (done) return
  done = true
  appendFileSync(log, `close ${to} ${from}\n`)
  process.exit(0)
}
process.on('SIGHUP', () => {})
process.on('SIGTERM', finish)
const socket = connect(Number(port), host, () => appendFileSync(log, 'open\n'))
socket.on('data', (d) => {
  from += d.length
  process.stdout.write(d)
})
process.stdin.on('data', (d) => {
  to += d.length
  socket.write(d)
})
process.stdin.on('end', () => socket.end())
socket.on('end', () => process.stdout.end())
socket.on('close', finish)
socket.on('error', finish)
