import type { GuardedRemote } from './guarded-remote.js'
import { namespaceBumpedMessage } from './invalidation-messages.js'
import type { RedisClient } from './redis-client.js'
import type { RedisKeys } from './redis-keys.js'
import { bumpGenerationScript, resyncGenerationScript, runScript } from './redis-scripts.js'

/** What {@link RedisGenerations} needs. */
export interface RedisGenerationsOptions {
  client: RedisClient
  remote: GuardedRemote
  keys: RedisKeys
  /** This instance's id on the bus; its own messages are applied before they are sent. */
  origin: string
  /** A namespace's generation went up here: evict its memory-tier entries. */
  onBumped(namespace: string, generation: number): void
  /** Pause before a failed read or bump is tried again. @default 500 */
  retryDelayMs?: number
}

/**
 * Namespace generations shared through Redis, with a local copy of each for
 * the synchronous hot path.
 *
 * Sync rule: a namespace is *synced* when its copy was read from Redis after
 * the bus subscription of the current connection was confirmed (so every
 * later bump arrives as a message) and no bump of ours is still waiting for
 * Redis. Each (re)subscription starts a new epoch and re-reads every known
 * namespace; until then those namespaces are unsynced, and the engine must
 * not trust memory-tier entries of them (or must `load()` first).
 *
 * Generations only go up: a copy takes the larger of what it has and what
 * it hears, and Redis is repaired when it holds less than an instance knows
 * (see the Lua scripts).
 */
export class RedisGenerations {
  readonly #options: RedisGenerationsOptions
  readonly #retryDelayMs: number
  readonly #local = new Map<string, number>()
  readonly #syncedEpoch = new Map<string, number>()
  // Bumps made while Redis was unavailable: namespace -> the generation applied here.
  readonly #pendingBumps = new Map<string, number>()
  readonly #loads = new Map<string, { epoch: number; promise: Promise<number> }>()
  #epoch = 0
  #live = false
  #retryTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: RedisGenerationsOptions) {
    this.#options = options
    this.#retryDelayMs = options.retryDelayMs ?? 500
  }

  /** The local copy (0 if unknown). An unknown namespace is tracked from now on and read in the background. */
  get(namespace: string): number {
    const generation = this.#local.get(namespace)
    if (generation !== undefined) return generation
    void this.load(namespace)
    return 0
  }

  /** Whether {@link get} is known to be current (see the class comment). */
  isSynced(namespace: string): boolean {
    return this.#live && this.#syncedEpoch.get(namespace) === this.#epoch && !this.#pendingBumps.has(namespace)
  }

  /** Reads the generation from Redis now (one read at a time per namespace); the local copy if Redis is unavailable. */
  load(namespace: string): Promise<number> {
    if (!this.#local.has(namespace)) this.#local.set(namespace, 0)
    const running = this.#loads.get(namespace)
    if (running !== undefined && running.epoch === this.#epoch) return running.promise
    const promise = this.#sync(namespace).finally(() => {
      if (this.#loads.get(namespace)?.promise === promise) this.#loads.delete(namespace)
    })
    this.#loads.set(namespace, { epoch: this.#epoch, promise })
    return promise
  }

  /**
   * Bumps the generation in Redis and applies it here at once. With Redis
   * unavailable the bump applies here only and is retried until Redis takes it.
   */
  async bump(namespace: string): Promise<number> {
    const floor = this.#local.get(namespace) ?? 0
    const generation = await this.#run(bumpGenerationScript, namespace, floor)
    if (generation !== undefined) {
      // Bumping past our copy also carries any earlier bump of ours that Redis missed.
      const pending = this.#pendingBumps.get(namespace)
      if (pending !== undefined && pending <= floor) this.#pendingBumps.delete(namespace)
      this.#apply(namespace, generation)
      return generation
    }
    this.#pendingBumps.set(namespace, floor + 1)
    this.#apply(namespace, floor + 1)
    this.#scheduleRetry()
    return floor + 1
  }

  /** A bump announced on the bus by another instance. */
  received(namespace: string, generation: number): void {
    const current = this.#local.get(namespace)
    // Lower than ours: Redis lost the counter, or our own bump has not reached it. A resync repairs both.
    if (current !== undefined && generation < current) void this.load(namespace)
    else this.#apply(namespace, generation)
  }

  /** The bus subscription is (again) in place: a new epoch, and every known namespace is read again. */
  subscribed(): void {
    this.#epoch++
    this.#live = true
    for (const namespace of this.#local.keys()) void this.load(namespace)
  }

  /** The bus subscription dropped: nothing is synced until it is back. */
  lost(): void {
    this.#live = false
  }

  /** Stops retrying. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#retryTimer)
  }

  async #sync(namespace: string): Promise<number> {
    const epoch = this.#epoch
    const wasLive = this.#live
    const pending = this.#pendingBumps.get(namespace)
    const known = this.#local.get(namespace) ?? 0
    const script = pending === undefined ? resyncGenerationScript : bumpGenerationScript
    const generation = await this.#run(script, namespace, known)
    if (generation === undefined) {
      this.#scheduleRetry()
      return known
    }
    // Another bump made offline meanwhile is not in Redis yet: it needs its own retry.
    if (pending !== undefined && this.#pendingBumps.get(namespace) === pending) this.#pendingBumps.delete(namespace)
    else if (pending !== undefined) this.#scheduleRetry()
    this.#apply(namespace, generation)
    // A read only proves the copy current if the subscription already existed when it started.
    if (wasLive && this.#live && epoch === this.#epoch) this.#syncedEpoch.set(namespace, epoch)
    return this.#local.get(namespace) ?? generation
  }

  async #run(
    script: typeof bumpGenerationScript,
    namespace: string,
    known: number,
  ): Promise<number | undefined> {
    const { client, remote, keys, origin } = this.#options
    const { prefix, suffix } = namespaceBumpedMessage(origin, namespace)
    const args = [known, keys.invalidationChannel, prefix, suffix]
    const result = await remote.call(() => runScript(client, script, [keys.generation(namespace)], args), undefined)
    const generation = Number(result)
    return Number.isSafeInteger(generation) && generation >= 0 ? generation : undefined
  }

  #apply(namespace: string, generation: number): void {
    const current = this.#local.get(namespace)
    if (current !== undefined && generation <= current) return
    this.#local.set(namespace, generation)
    // Generation 0 of a namespace seen for the first time invalidates nothing.
    if (generation > (current ?? 0)) this.#options.onBumped(namespace, generation)
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      for (const namespace of this.#local.keys()) {
        if (this.#pendingBumps.has(namespace) || (this.#live && !this.isSynced(namespace))) void this.load(namespace)
      }
    }, this.#retryDelayMs).unref()
  }
}
