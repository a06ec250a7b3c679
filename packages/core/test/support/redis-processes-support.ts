import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '@aicache/testkit/redis'

/**
 * Real Redis processes for the production set-ups: a TLS server with ACL
 * users, and Sentinel (master, replica, three sentinels). Started and
 * stopped by the tests, on loopback ports, in a temporary folder each.
 */

/** A `redis-server` (or sentinel) child process. */
interface Child {
  readonly port: number
  readonly process: ChildProcess
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL')
  await exited(child)
}

/** Polls `redis-cli` with `args` until `accept` likes its output; fails after `timeoutMs`. */
export async function untilCli(args: string[], accept: (output: string) => boolean, timeoutMs: number, label: string): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let output = ''
    try {
      output = execFileSync('redis-cli', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 })
    } catch {
      // not up yet
    }
    if (accept(output)) return output
    if (Date.now() > deadline) throw new Error(`${label} not reached within ${timeoutMs} ms (last answer: ${output.trim()})`)
    await sleep(50)
  }
}

/** Whether the `openssl` command is installed (the TLS test makes its certificates with it). */
export function opensslInstalled(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** PEM files of a test CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
export interface TestCertificates {
  directory: string
  caFile: string
  ca: Buffer
  serverCertFile: string
  serverKeyFile: string
  cert: Buffer
  key: Buffer
}

/** Makes the certificates with the `openssl` command, in a new temporary folder. */
export function makeCertificates(): TestCertificates {
  const directory = mkdtempSync(join(tmpdir(), 'aicache-tls-'))
  const file = (name: string) => join(directory, name)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore', cwd: directory })
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=aicache test CA', '-keyout', 'ca.key', '-out', 'ca.crt')
  writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n')
  for (const [name, extensions] of [
    ['server', ['-extfile', 'server.ext']],
    ['client', []],
  ] as const) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=aicache ${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`)
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, ...extensions)
  }
  return {
    directory,
    caFile: file('ca.crt'),
    ca: readFileSync(file('ca.crt')),
    serverCertFile: file('server.crt'),
    serverKeyFile: file('server.key'),
    cert: readFileSync(file('client.crt')),
    key: readFileSync(file('client.key')),
  }
}

/** A `redis-server` listening with TLS only, clients authenticated by certificate and ACL user. */
export interface TlsRedisServer {
  readonly port: number
  readonly certificates: TestCertificates
  /** `redis-cli` as the `default` (administrator) user over TLS, for checks behind the application's back. */
  cli(...args: string[]): string
  stop(): Promise<void>
}

/**
 * Starts a TLS-only server (`--port 0 --tls-port`), `tls-auth-clients yes`,
 * with the `default` user behind `adminPassword` and one `user` line per entry
 * of `users` (the text after `user` in redis.conf).
 */
export async function startTlsRedisServer(users: readonly string[], adminPassword: string): Promise<TlsRedisServer> {
  const certificates = makeCertificates()
  const port = await freePort()
  const config = [
    'port 0',
    `tls-port ${port}`,
    'bind 127.0.0.1',
    `tls-cert-file ${certificates.serverCertFile}`,
    `tls-key-file ${certificates.serverKeyFile}`,
    `tls-ca-cert-file ${certificates.caFile}`,
    'tls-auth-clients yes',
    'save ""',
    'appendonly no',
    `dir ${certificates.directory}`,
    `user default on >${adminPassword} ~* &* +@all`,
    ...users.map((user) => `user ${user}`),
  ]
  const configFile = join(certificates.directory, 'redis.conf')
  writeFileSync(configFile, `${config.join('\n')}\n`)
  const child = spawn('redis-server', [configFile], { stdio: 'ignore' })
  const tlsArgs = [
    '--tls',
    '--cacert',
    certificates.caFile,
    '--cert',
    join(certificates.directory, 'client.crt'),
    '--key',
    join(certificates.directory, 'client.key'),
  ]
  const adminArgs = ['-h', '127.0.0.1', '-p', String(port), ...tlsArgs, '--user', 'default', '--pass', adminPassword, '--no-auth-warning']
  await untilCli([...adminArgs, 'ping'], (output) => output.trim() === 'PONG', 10_000, `TLS redis-server on ${port}`)
  return {
    port,
    certificates,
    cli: (...args) => execFileSync('redis-cli', [...adminArgs, ...args], { encoding: 'utf8' }),
    async stop() {
      await stopChild(child)
      rmSync(certificates.directory, { recursive: true, force: true })
    },
  }
}

/** One master, one replica and three sentinels monitoring them as `name`. */
export interface SentinelSet {
  readonly name: string
  readonly sentinels: ReadonlyArray<{ host: '127.0.0.1'; port: number }>
  /** The master's port as the sentinels see it now. */
  masterPort(): number
  /** Kills the current master at once (SIGKILL), as a crash would; resolves with its port. */
  killMaster(): Promise<number>
  /** Resolves once the sentinels name a master other than `oldPort`, and that node accepts writes. */
  promoted(oldPort: number, timeoutMs: number): Promise<number>
  stop(): Promise<void>
}

function launchServer(port: number, directory: string, extra: string[]): Child {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', directory, ...extra]
  return { port, process: spawn('redis-server', args, { stdio: 'ignore' }) }
}

/**
 * Starts the set and waits until every sentinel knows the replica and the
 * other two sentinels, so a failover can start as soon as the master dies.
 * `down-after-milliseconds` 1000 and a short `failover-timeout` keep a
 * failover within seconds.
 */
export async function startSentinelSet(name = 'aicache-test'): Promise<SentinelSet> {
  const directory = mkdtempSync(join(tmpdir(), 'aicache-sentinel-'))
  const children: Child[] = []
  const ping = (port: number) => untilCli(['-p', String(port), 'ping'], (output) => output.trim() === 'PONG', 10_000, `redis on ${port}`)
  const master = launchServer(await freePort(), directory, [])
  children.push(master)
  await ping(master.port)
  const replica = launchServer(await freePort(), directory, ['--replicaof', '127.0.0.1', String(master.port)])
  children.push(replica)
  await ping(replica.port)
  await untilCli(['-p', String(replica.port), 'info', 'replication'], (output) => output.includes('master_link_status:up'), 10_000, 'replication')
  const sentinelPorts: number[] = []
  for (let index = 0; index < 3; index++) {
    const port = await freePort()
    const configFile = join(directory, `sentinel-${index}.conf`)
    writeFileSync(
      configFile,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${directory}`,
        `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
        `sentinel down-after-milliseconds ${name} 1000`,
        `sentinel failover-timeout ${name} 3000`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    )
    children.push({ port, process: spawn('redis-server', [configFile, '--sentinel'], { stdio: 'ignore' }) })
    sentinelPorts.push(port)
    await ping(port)
  }
  for (const port of sentinelPorts) {
    await untilCli(['-p', String(port), 'sentinel', 'replicas', name], (output) => output.includes(String(replica.port)), 20_000, 'sentinel sees the replica')
    await untilCli(['-p', String(port), 'sentinel', 'master', name], (output) => /num-other-sentinels\n2\n/.test(output), 20_000, 'sentinels see each other')
  }
  const askedMaster = () => {
    for (const port of sentinelPorts) {
      try {
        const output = execFileSync('redis-cli', ['-p', String(port), 'sentinel', 'get-master-addr-by-name', name], { encoding: 'utf8' })
        const masterPort = Number(output.trim().split('\n')[1])
        if (masterPort > 0) return masterPort
      } catch {
        // ask the next one
      }
    }
    throw new Error('no sentinel names a master')
  }
  return {
    name,
    sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1' as const, port })),
    masterPort: askedMaster,
    async killMaster() {
      const port = askedMaster()
      const child = children.find((candidate) => candidate.port === port)!
      await stopChild(child.process)
      return port
    },
    async promoted(oldPort, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const port = askedMaster()
        if (port !== oldPort) {
          await untilCli(['-p', String(port), 'role'], (output) => output.startsWith('master'), Math.max(1, deadline - Date.now()), 'the new master')
          return port
        }
        if (Date.now() > deadline) throw new Error(`no failover within ${timeoutMs} ms`)
        await sleep(50)
      }
    },
    async stop() {
      await Promise.all(children.map((child) => stopChild(child.process)))
      rmSync(directory, { recursive: true, force: true })
    },
  }
}
