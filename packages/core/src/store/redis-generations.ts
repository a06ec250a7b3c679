import { LRUCache } from 'lru-cache'
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
  /** Namespaces never invalidated whose generation (0) is remembered, least recently used out first. @default 1000 */
  maxNamespaces?: number
}

/**
 * The reserved namespace whose generation is the epoch of every namespace:
 * bumping it invalidates them all. Never a valid `x-aicache-namespace`.
 */
export const allNamespaces = '*'

/**
 * How the epoch and a namespace's own generation make one number: the
 * epoch in the high bits. Unique while a namespace is invalidated fewer than
 * 2^32 times, and a safe integer while the epoch stays below 2^21.
 */
const epochFactor = 2 ** 32

/** What this instance knows of one namespace. */
interface Known {
  generation: number
  /** The epoch of the subscription in which it was last read from Redis; -1 before that. */
  syncedEpoch: number
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
 *
 * Bounded by what callers can create: namespaces come from a request
 * header, so those never invalidated (generation 0, the only kind a caller
 * makes) are remembered in an LRU of `maxNamespaces`. Forgetting one is
 * safe: an unknown namespace is unsynced, so it is read from Redis again
 * before its memory-tier entries are trusted, never taken to be 0. Those
 * invalidated (only the operator makes them) are all kept, so a bump is
 * never forgotten, even while Redis cannot be read. A reconnect therefore
 * re-reads at most `maxNamespaces` plus the invalidated ones.
 *
 * Every public generation includes the epoch of {@link allNamespaces}.
 */
export class RedisGenerations {
  readonly #options: RedisGenerationsOptions
  readonly #retryDelayMs: number
  // Generation above 0 (and the epoch): never forgotten.
  readonly #invalidated = new Map<string, Known>()
  // Generation 0: the most recently used, bounded.
  readonly #untouched: LRUCache<string, Known>
  // Bumps made while Redis was unavailable: namespace -> the generation applied here.
  readonly #pendingBumps = new Map<string, number>()
  readonly #loads = new Map<string, { epoch: number; promise: Promise<number> }>()
  // The epoch's copy, never replaced (only changed), so the hot path reads it without a lookup.
  readonly #epochKnown: Known = { generation: 0, syncedEpoch: -1 }
  #epoch = 0
  #live = false
  #retryTimer: NodeJS.Timeout | undefined
  #closed = false

  constructor(options: RedisGenerationsOptions) {
    this.#options = options
    this.#retryDelayMs = options.retryDelayMs ?? 500
    this.#untouched = new LRUCache<string, Known>({ max: options.maxNamespaces ?? 1000 })
    this.#invalidated.set(allNamespaces, this.#epochKnown)
  }

  /** The local copy, epoch included (0 if unknown). An unknown namespace is tracked from now on and read in the background. */
  get(namespace: string): number {
    return this.#own(namespace) + this.#epochKnown.generation * epochFactor
  }

  /** Whether {@link get} is known to be current (see the class comment). */
  isSynced(namespace: string): boolean {
    const epochSynced = this.#epochKnown.syncedEpoch === this.#epoch && !this.#pendingBumps.has(allNamespaces)
    return epochSynced && this.#isSynced(namespace)
  }

  /** Reads the generation (and the epoch) from Redis now; the local copy if Redis is unavailable. */
  async load(namespace: string): Promise<number> {
    // The epoch is read once per subscription, not with every namespace.
    const epochRead = this.#isSynced(allNamespaces) ? undefined : this.#load(allNamespaces)
    const own = await this.#load(namespace)
    await epochRead
    return own + this.#epochKnown.generation * epochFactor
  }

  /** Namespaces whose generation this instance remembers now (bounded; see the class comment). */
  get trackedNamespaces(): number {
    return this.#invalidated.size + this.#untouched.size
  }

  /**
   * Bumps the generation in Redis and applies it here at once. With Redis
   * unavailable the bump applies here only and is retried until Redis takes
   * it. Bumping {@link allNamespaces} invalidates every namespace.
   */
  async bump(namespace: string): Promise<number> {
    const floor = this.#known(namespace)?.generation ?? 0
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
    const current = this.#known(namespace)?.generation
    // Lower than ours: Redis lost the counter, or our own bump has not reached it. A resync repairs both.
    if (current !== undefined && generation < current) void this.#load(namespace)
    else this.#apply(namespace, generation)
  }

  /** The bus subscription is (again) in place: a new epoch, and every known namespace is read again. */
  subscribed(): void {
    this.#epoch++
    this.#live = true
    for (const namespace of this.#namespaces()) void this.#load(namespace)
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

  #known(namespace: string): Known | undefined {
    return this.#invalidated.get(namespace) ?? this.#untouched.get(namespace)
  }

  #own(namespace: string): number {
    const known = this.#known(namespace)
    if (known !== undefined) return known.generation
    void this.#load(namespace)
    return 0
  }

  #isSynced(namespace: string): boolean {
    return this.#live && this.#known(namespace)?.syncedEpoch === this.#epoch && !this.#pendingBumps.has(namespace)
  }

  #namespaces(): string[] {
    return [...this.#invalidated.keys(), ...this.#untouched.keys()]
  }

  /** One read at a time per namespace. */
  #load(namespace: string): Promise<number> {
    if (this.#known(namespace) === undefined) this.#untouched.set(namespace, { generation: 0, syncedEpoch: -1 })
    const running = this.#loads.get(namespace)
    if (running !== undefined && running.epoch === this.#epoch) return running.promise
    const promise = this.#sync(namespace).finally(() => {
      if (this.#loads.get(namespace)?.promise === promise) this.#loads.delete(namespace)
    })
    this.#loads.set(namespace, { epoch: this.#epoch, promise })
    return promise
  }

  async #sync(namespace: string): Promise<number> {
    const epoch = this.#epoch
    const wasLive = this.#live
    const pending = this.#pendingBumps.get(namespace)
    const known = this.#known(namespace)?.generation ?? 0
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
    const copy = this.#known(namespace)
    // A read only proves the copy current if the subscription already existed when it started.
    if (copy !== undefined && wasLive && this.#live && epoch === this.#epoch) copy.syncedEpoch = epoch
    return copy?.generation ?? generation
  }

  async #run(script: typeof bumpGenerationScript, namespace: string, known: number): Promise<number | undefined> {
    const { client, remote, keys, origin } = this.#options
    const { prefix, suffix } = namespaceBumpedMessage(origin, namespace)
    const args = [known, keys.invalidationChannel, prefix, suffix]
    const result = await remote.call(() => runScript(client, script, [keys.generation(namespace)], args), undefined)
    const generation = Number(result)
    return Number.isSafeInteger(generation) && generation >= 0 ? generation : undefined
  }

  #apply(namespace: string, generation: number): void {
    const known = this.#known(namespace)
    const current = known?.generation
    if (current !== undefined && generation <= current) return
    if (known !== undefined && this.#invalidated.get(namespace) === known) {
      known.generation = generation
    } else if (generation > 0) {
      // Invalidated: kept for good, so the bump cannot be forgotten.
      this.#untouched.delete(namespace)
      this.#invalidated.set(namespace, { generation, syncedEpoch: known?.syncedEpoch ?? -1 })
    } else {
      this.#untouched.set(namespace, { generation, syncedEpoch: -1 })
    }
    // Generation 0 of a namespace seen for the first time invalidates nothing.
    if (generation > (current ?? 0)) this.#options.onBumped(namespace, generation)
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== undefined) return
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined
      for (const namespace of this.#namespaces()) {
        if (this.#pendingBumps.has(namespace) || (this.#live && !this.#isSynced(namespace))) void this.#load(namespace)
      }
    }, this.#retryDelayMs).unref()
  }
}
