import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

/** A real `redis-server` process on a loopback port, started by a test. */
export interface RedisServer {
  readonly host: '127.0.0.1'
  readonly port: number
  /** `redis://127.0.0.1:PORT` */
  readonly url: string
  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void>
  /** Starts it again on the same port, empty. */
  restart(): Promise<void>
  /** Stops it and removes its files. */
  stop(): Promise<void>
}

/** Whether `redis-server` and `redis-cli` are installed on this machine. */
export function redisInstalled(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    execFileSync('redis-cli', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * For `describe.skipIf(...)`: true when Redis tests cannot run here. Where
 * `CI` is set a missing Redis is an error, never a skip.
 */
export function skipWithoutRedis(): boolean {
  if (redisInstalled()) return false
  if (process.env['CI']) throw new Error('redis-server is not installed, and CI must run the Redis tests')
  console.warn('redis-server is not installed: skipping the Redis tests (apt-get install redis-server)')
  return true
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

async function waitForPing(port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      if (execFileSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).trim() === 'PONG') return
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`)
    await sleep(20)
  }
}

function launch(port: number, directory: string, extra: string[]): ChildProcess {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory, ...extra]
  return spawn('redis-server', args, { stdio: 'ignore' })
}

/** Starts a `redis-server` on a free loopback port (in the foreground, owned by the test). */
export async function startRedisServer(extraArguments: string[] = [], directory = mkdtempSync(join(tmpdir(), 'aicache-redis-'))): Promise<RedisServer> {
  const port = await freePort()
  let child = launch(port, directory, extraArguments)
  await waitForPing(port)
  const exited = (process: ChildProcess) =>
    process.exitCode !== null || process.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => process.once('exit', () => resolve()))
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    async kill() {
      child.kill('SIGKILL')
      await exited(child)
    },
    async restart() {
      child = launch(port, directory, extraArguments)
      await waitForPing(port)
    },
    async stop() {
      child.kill('SIGTERM')
      await exited(child)
      rmSync(directory, { recursive: true, force: true })
    },
  }
}

/** A real Redis Cluster of three masters on loopback, started by a test. */
export interface RedisCluster {
  readonly nodes: ReadonlyArray<{ host: '127.0.0.1'; port: number }>
  stop(): Promise<void>
}

/** Starts three `--cluster-enabled` servers and joins them with `redis-cli --cluster create`. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const servers: RedisServer[] = []
  for (let index = 0; index < 3; index++) {
    // The node's cluster file lives in its own folder, which stop() removes.
    const directory = mkdtempSync(join(tmpdir(), 'aicache-cluster-'))
    servers.push(await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', join(directory, 'nodes.conf')], directory))
  }
  const addresses = servers.map((server) => `127.0.0.1:${server.port}`)
  execFileSync('redis-cli', ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], {
    stdio: 'ignore',
  })
  // The cluster is usable once every slot is served.
  const deadline = Date.now() + 10_000
  while (!execFileSync('redis-cli', ['-p', String(servers[0]!.port), 'cluster', 'info'], { encoding: 'utf8' }).includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error('the Redis cluster did not become ready')
    await sleep(50)
  }
  return {
    nodes: servers.map((server) => ({ host: '127.0.0.1' as const, port: server.port })),
    stop: async () => {
      await Promise.all(servers.map((server) => server.stop()))
    },
  }
}
