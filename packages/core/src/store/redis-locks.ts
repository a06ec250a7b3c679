import { randomUUID } from 'node:crypto'
import type { CacheEntry } from './entry.js'
import type { GuardedRemote } from './guarded-remote.js'
import type { RedisClient } from './redis-client.js'
import type { RedisKeys } from './redis-keys.js'
import { releaseLockScript, runScript } from './redis-scripts.js'
import type { RedisTier } from './redis-tier.js'
import { decodeSharedFailure, encodeSharedFailure, type SharedFailure } from './shared-failure.js'

/** A cross-instance single-flight lock, held until released or expired. */
export interface LockHandle {
  /** `false` for the stand-in handed out while Redis is unavailable (nobody else is excluded). */
  readonly held: boolean
  /**
   * Releases the lock if this holder still owns it, and wakes the waiters.
   * With `failure`, the waiters answer with it instead of calling again
   * (the production failed); without, they find the entry or take over.
   * Idempotent; never rejects.
   */
  release(failure?: SharedFailure): Promise<void>
}

/** What a wait on another instance's lock ended with. */
export type WaitedAnswer = { entry: CacheEntry; failure?: undefined } | { failure: SharedFailure; entry?: undefined }

/** What {@link RedisLocks} needs. */
export interface RedisLocksOptions {
  client: RedisClient
  remote: GuardedRemote
  keys: RedisKeys
  tier: RedisTier
  /** Expiry of a lock whose holder never releases it (crashed). @default 30000 */
  lockTtlMs?: number
  /** How often a waiter looks at Redis when no message woke it. @default 150 */
  pollIntervalMs?: number
  /** How long a holder's failure stays for its waiters to read; they are woken at once, so it is short. @default 5000 */
  failureTtlMs?: number
}

interface Waiter {
  woken: boolean
  wake: (() => void) | undefined
}

const unavailable = Symbol('unavailable')

/** Handed out while Redis is unavailable: the caller produces the answer alone. */
const standInHandle: LockHandle = Object.freeze({ held: false, release: async () => {} })

/**
 * Cross-instance single-flight: one instance holds `SET lock token NX PX`
 * and produces the answer; the others wait for the entry. Waiters are woken
 * by a message on the written channel and also poll, so a lost message costs
 * at most one poll interval. When the holder's production failed, it
 * leaves the failure under the key as it releases the lock (a few seconds,
 * read only by those waiters), and they answer with it: a failing upstream
 * is called by one instance's retries, not by every instance in turn. When
 * the lock is gone with neither (the holder's clients all left, or it died
 * and the lock expired) they stop waiting and try to acquire it themselves.
 */
export class RedisLocks {
  readonly #options: RedisLocksOptions
  readonly #lockTtlMs: number
  readonly #pollIntervalMs: number
  readonly #failureTtlMs: number
  readonly #waiters = new Map<string, Set<Waiter>>()
  #closed = false

  constructor(options: RedisLocksOptions) {
    this.#options = options
    this.#lockTtlMs = options.lockTtlMs ?? 30_000
    this.#pollIntervalMs = options.pollIntervalMs ?? 150
    this.#failureTtlMs = options.failureTtlMs ?? 5_000
  }

  /**
   * The lock of `key`, or `undefined` when another instance holds it. While
   * Redis is unavailable it resolves with a stand-in handle (`held: false`):
   * failing open means at worst one upstream call per instance, never a wait
   * on a lock nobody can see.
   */
  async acquire(key: string): Promise<LockHandle | undefined> {
    const { client, remote, keys } = this.#options
    const lockKey = keys.lock(key)
    const token = randomUUID()
    const result = await remote.call(() => client.set(lockKey, token, 'PX', this.#lockTtlMs, 'NX'), unavailable)
    if (result === unavailable) return standInHandle
    if (result !== 'OK') return undefined
    let released = false
    return {
      held: true,
      release: async (failure) => {
        if (released) return
        released = true
        const encoded = failure === undefined ? '' : encodeSharedFailure(failure)
        const args = [token, keys.writtenChannel, key, encoded, this.#failureTtlMs]
        await remote.call(() => runScript(client, releaseLockScript, [lockKey, keys.failure(key)], args), undefined)
      },
    }
  }

  /**
   * Waits until the entry of `key` is written, or its holder released the
   * lock with a failure. `undefined` on timeout, when the lock is gone with
   * neither, or when Redis is unavailable: the caller then tries
   * {@link acquire} again.
   */
  async waitForAnswer(key: string, timeoutMs: number): Promise<WaitedAnswer | undefined> {
    const { client, remote, keys, tier } = this.#options
    const deadline = Date.now() + timeoutMs
    const waiter: Waiter = { woken: false, wake: undefined }
    const waiters = this.#waiters.get(key) ?? new Set<Waiter>()
    this.#waiters.set(key, waiters)
    waiters.add(waiter)
    try {
      while (!this.#closed) {
        // Registered before looking, so a wake-up between the look and the sleep is not lost.
        waiter.woken = false
        // Lock first, entry second: a holder writes before it releases, so a
        // released lock with no entry after it really means "no entry coming".
        const locked = (await remote.call(() => client.exists(keys.lock(key)), 0)) === 1
        const entry = await tier.get(key)
        if (entry !== undefined) return { entry }
        // Released without an entry: the failure, if the holder left one (a
        // release without one clears any older one, so this is the last holder's).
        if (!locked) return await this.#failureOf(key)
        const remainingMs = deadline - Date.now()
        if (remainingMs <= 0) return undefined
        await this.#sleep(waiter, Math.min(this.#pollIntervalMs, remainingMs))
      }
      return undefined
    } finally {
      waiters.delete(waiter)
      if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key)
    }
  }

  async #failureOf(key: string): Promise<WaitedAnswer | undefined> {
    const { client, remote, keys } = this.#options
    const failure = decodeSharedFailure(await remote.call(() => client.get(keys.failure(key)), null))
    return failure === undefined ? undefined : { failure }
  }

  /** The entry of `key` was written or its lock released: waiters look again now. */
  written(key: string): void {
    for (const waiter of this.#waiters.get(key) ?? []) {
      waiter.woken = true
      waiter.wake?.()
    }
  }

  /** Ends every wait (with `undefined`). */
  close(): void {
    this.#closed = true
    for (const key of this.#waiters.keys()) this.written(key)
  }

  async #sleep(waiter: Waiter, ms: number): Promise<void> {
    if (waiter.woken) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        waiter.wake = undefined
        resolve()
      }
      waiter.wake = done
    })
  }
}
