import type { Cluster, Redis, RedisOptions } from 'ioredis'
import type { RedisSentinel, RedisTlsOptions } from './redis-connection-options.js'

/**
 * A single-node (or Sentinel) client or a Cluster client of ioredis, as the
 * layer uses it. Internal: the public options take {@link IoredisClient}.
 */
export type RedisClient = Redis | Cluster

/**
 * An ioredis `Redis` (single node, Sentinel) or `Cluster` client, described
 * by the members aicache recognises it by. Public types name this instead of
 * ioredis's classes so that the declarations of `@aicache/core` do not import
 * `ioredis`, an optional peer dependency: an app without it type-checks with
 * `skipLibCheck: false` too (decision 0016).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * createAiCache({ redis: new Redis(process.env.REDIS_URL) })
 * ```
 */
export interface IoredisClient {
  /** `false` on a `Redis` client, `true` on a `Cluster` one. */
  readonly isCluster: boolean
  /** The connection's state (`'ready'` once connected). */
  readonly status: string
  /** ioredis's binary GET; its presence tells an ioredis client from other objects. */
  getBuffer(...arguments_: never[]): unknown
}

/** How the layer reaches Redis: a URL (`redis://`, `rediss://`) or an ioredis client. */
export type RedisConnection = string | IoredisClient

/** Pause between reconnection attempts; short, so a returning Redis is used again soon. */
export const reconnectDelayMs = 300

/**
 * Options of the connections the layer opens itself. Commands fail at once
 * while disconnected instead of queueing until a reconnect (the layer has its
 * own deadline and breaker on top), and reconnection never stops or backs
 * off to seconds.
 */
export const ownedClientOptions: RedisOptions = {
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  retryStrategy: () => reconnectDelayMs,
  connectTimeout: 2_000,
  lazyConnect: false,
}

/** The client and whether the layer created it (and so must close it). */
export interface OpenedClient {
  client: RedisClient
  owned: boolean
}

/** Where the layer's own connection goes: a URL or client, or sentinels (validated options). */
export interface ConnectionSettings {
  readonly redis?: RedisConnection | undefined
  readonly sentinels?: readonly RedisSentinel[] | undefined
  readonly name?: string | undefined
  readonly username?: string | undefined
  readonly password?: string | undefined
  readonly sentinelPassword?: string | undefined
  readonly tls?: Readonly<RedisTlsOptions> | undefined
}

/**
 * The ioredis options of the layer's own connection. With sentinels, the
 * client asks them for the master of `name` again after every lost
 * connection, so it follows a failover: a crashed master drops the
 * connection, and a master demoted to replica answers writes with
 * `READONLY`, which makes the client reconnect. ioredis's
 * `failoverDetector` is not used: its disconnect can land during a
 * reconnection attempt and end the client for good. TLS options are merged
 * with what a `rediss://` URL implies.
 */
export function connectionOptions(settings: ConnectionSettings): RedisOptions {
  const tls = settings.tls && { ...settings.tls, ca: settings.tls.ca as string | Buffer | Array<string | Buffer> | undefined }
  if (settings.sentinels === undefined) return tls ? { ...ownedClientOptions, tls } : ownedClientOptions
  return {
    ...ownedClientOptions,
    sentinels: settings.sentinels.map(({ host, port }) => ({ host, port })),
    name: settings.name!,
    ...(settings.username === undefined ? {} : { username: settings.username }),
    ...(settings.password === undefined ? {} : { password: settings.password }),
    ...(settings.sentinelPassword === undefined ? {} : { sentinelPassword: settings.sentinelPassword }),
    ...(tls ? { tls, enableTLSForSentinelMode: true } : {}),
    // Every sentinel unreachable: ask again soon, as for a lost node.
    sentinelRetryStrategy: () => reconnectDelayMs,
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
  }
}

/**
 * Opens a connection for a URL or sentinels, loading ioredis only now, so
 * that users who never configure Redis never need it installed; a client
 * passed in is used as it is (its owner configured it and closes it).
 */
export async function openRedisClient(settings: ConnectionSettings): Promise<OpenedClient> {
  const connection = settings.redis
  if (connection !== undefined && typeof connection !== 'string') {
    // Validated as an ioredis client when the options were resolved.
    const client = connection as unknown as RedisClient
    // A lazyConnect client would otherwise wait for a first command.
    if (client.status === 'wait') client.connect().catch(() => {})
    return { client, owned: false }
  }
  const ioredis = await import('ioredis')
  const options = connectionOptions(settings)
  const client = connection === undefined ? new ioredis.Redis(options) : new ioredis.Redis(connection, options)
  // Errors surface through the layer's breaker; without a listener ioredis would print each one.
  client.on('error', () => {})
  return { client, owned: true }
}

/** Whether a client is an ioredis Cluster. */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster === true
}

/**
 * Resolves once the client is ready or after `timeoutMs`, whichever is
 * first: a Redis that is down at start-up must not delay the application.
 */
export async function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return true
  return await new Promise<boolean>((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer)
      client.off('ready', onReady)
      resolve(ready)
    }
    const onReady = () => done(true)
    const timer = setTimeout(() => done(false), timeoutMs)
    client.on('ready', onReady)
  })
}
