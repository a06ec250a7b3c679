import { setTimeout as sleep } from 'node:timers/promises'
import { Cluster, Redis } from 'ioredis'
import type { RedisCluster } from '@aicache/testkit/redis'

/**
 * The per-call deadline of layers in tests that are not about deadlines.
 * Test machines are shared and often loaded; a 100 ms default would turn a
 * busy moment into an open breaker and a failure that tests nothing.
 */
export const generousTimeoutMs = 2_000

/**
 * Polls `check` until it returns something other than `undefined`/`false`,
 * and returns that; fails after `timeoutMs`. For conditions reached through
 * the network (pub/sub, reconnects), instead of fixed sleeps.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 3_000, label = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`${label} not reached within ${timeoutMs} ms`)
    await sleep(20)
  }
}

/** A plain client to act on a server behind the layer's back (write garbage, kill connections). */
export function rawClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 })
  client.on('error', () => {})
  return client
}

/** A Cluster client as an application would create it. */
export async function clusterClient(cluster: RedisCluster): Promise<Cluster> {
  const client = new Cluster(
    cluster.nodes.map(({ host, port }) => ({ host, port })),
    { clusterRetryStrategy: () => 100 },
  )
  client.on('error', () => {})
  await new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve())
    client.once('end', () => reject(new Error('the cluster client could not connect')))
  })
  return client
}

/** Stops a client whatever state it is in. */
export function closeClient(client: Redis | Cluster | undefined): void {
  client?.disconnect()
}
