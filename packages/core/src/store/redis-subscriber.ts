import type { Redis } from 'ioredis'
import { isCluster, reconnectDelayMs, type RedisClient } from './redis-client.js'

/** What {@link RedisSubscriber} listens to and whom it tells. */
export interface RedisSubscriberOptions {
  client: RedisClient
  channels: readonly string[]
  onMessage(channel: string, message: string): void
  /** Subscribed to every channel (at first or again after a reconnect): from now on no message is missed. */
  onSubscribed(): void
  /** The connection dropped: messages published from now until the next `onSubscribed` are lost. */
  onLost(): void
}

// Our own connection options: we subscribe ourselves on every `ready`, so we
// know exactly when messages flow again (ioredis' resubscription is silent).
const subscriberOverrides = {
  autoResubscribe: false,
  enableOfflineQueue: false,
  lazyConnect: false,
  retryStrategy: () => reconnectDelayMs,
}

// A cluster node that does not answer after this many attempts is given up for another one.
const attemptsPerClusterNode = 3

/**
 * The dedicated pub/sub connection of a layer. For a single node it is a
 * `duplicate()` of the client. For a Cluster it is a plain connection to one
 * node (a normal PUBLISH reaches every node of a cluster), moved to the next
 * node when that one stays unreachable; unlike ioredis' own cluster
 * subscriber, it reports every loss and every resubscription.
 */
export class RedisSubscriber {
  readonly #options: RedisSubscriberOptions
  #connection: Redis | undefined
  #subscribed = false
  #closed = false
  #nodeIndex = 0
  #retryTimer: NodeJS.Timeout | undefined

  constructor(options: RedisSubscriberOptions) {
    this.#options = options
    this.#connect()
  }

  /** Whether messages are flowing now. */
  get subscribed(): boolean {
    return this.#subscribed
  }

  /** Closes the connection. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#retryTimer)
    this.#lost()
    this.#connection?.disconnect()
    this.#connection = undefined
  }

  #connect(): void {
    if (this.#closed) return
    const connection = this.#open()
    if (connection === undefined) {
      // A cluster client that has not discovered its nodes yet.
      this.#retryTimer = setTimeout(() => this.#connect(), reconnectDelayMs).unref()
      return
    }
    this.#connection = connection
    connection.on('error', () => {})
    connection.on('message', (channel: string, message: string) => this.#options.onMessage(channel, message))
    connection.on('ready', () => this.#subscribe(connection))
    connection.on('close', () => {
      if (this.#connection === connection) this.#lost()
    })
    connection.on('end', () => {
      // Only a cluster node connection ends by itself (its retries ran out): try the next node.
      if (this.#closed || this.#connection !== connection) return
      this.#retryTimer = setTimeout(() => this.#connect(), reconnectDelayMs).unref()
    })
  }

  #open(): Redis | undefined {
    const { client } = this.#options
    if (!isCluster(client)) return client.duplicate(subscriberOverrides)
    const nodes = client.nodes('all')
    if (nodes.length === 0) return undefined
    const node = nodes[this.#nodeIndex++ % nodes.length]!
    return node.duplicate({
      ...subscriberOverrides,
      retryStrategy: (times: number) => (times > attemptsPerClusterNode ? null : reconnectDelayMs),
    })
  }

  #subscribe(connection: Redis): void {
    connection.subscribe(...this.#options.channels).then(
      () => {
        if (this.#closed || this.#connection !== connection || this.#subscribed) return
        this.#subscribed = true
        this.#options.onSubscribed()
      },
      // Subscribing failed on a live connection: start over on a fresh one.
      () => connection.disconnect(true),
    )
  }

  #lost(): void {
    if (!this.#subscribed) return
    this.#subscribed = false
    this.#options.onLost()
  }
}
