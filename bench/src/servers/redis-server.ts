/**
 * A real `redis-server` for the scenarios that use Redis, on a free loopback
 * port, without persistence. This node process only owns it: started like
 * every other child of the runner (so it exits with the runner, however the
 * runner dies), it stops the Redis it started when it exits, and prints
 * `redis listening <port> <pid>` once Redis accepts connections, so the
 * runner can also read the CPU time of redis-server itself.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { freePort } from '@aicache/testkit/redis'
import { assertEntryScript } from './entry-script.js'

assertEntryScript(import.meta.url)

const READY_TIMEOUT_MS = 10_000

const port = await freePort()
const directory = mkdtempSync(join(tmpdir(), 'aicache-bench-redis-'))
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory], {
  stdio: ['ignore', 'pipe', 'inherit'],
})
const exited = new Promise<void>((resolve) => redis.once('exit', () => resolve()))

function removeDirectory(): void {
  rmSync(directory, { recursive: true, force: true })
}

// However this process ends (the runner's pipe closing included), Redis must not outlive it.
process.once('exit', () => {
  if (redis.exitCode === null && redis.signalCode === null) redis.kill('SIGKILL')
  removeDirectory()
})
redis.once('error', (error) => {
  console.error(`redis-server could not be started: ${error.message}`)
  process.exit(1)
})
void exited.then(() => {
  if (!stopping) {
    console.error(`redis-server exited on its own (code ${String(redis.exitCode)}, signal ${String(redis.signalCode)})`)
    process.exit(1)
  }
})

let stopping = false
function stop(): void {
  if (stopping) return
  stopping = true
  redis.kill('SIGTERM')
  void exited.then(() => process.exit(0))
}
process.once('SIGTERM', stop)
process.once('SIGINT', stop)

const timer = setTimeout(() => {
  console.error(`redis-server did not accept connections within ${READY_TIMEOUT_MS} ms`)
  process.exit(1)
}, READY_TIMEOUT_MS)
const lines = createInterface({ input: redis.stdout })
lines.on('line', (line) => {
  if (!line.includes('Ready to accept connections')) return
  clearTimeout(timer)
  lines.close()
  // Redis keeps logging to the pipe; drain it so it never blocks on a full pipe.
  redis.stdout.resume()
  console.log(`redis listening ${port} ${redis.pid}`)
})
