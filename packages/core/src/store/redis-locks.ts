import { randomUUID } from 'node:crypto'
import type { CacheEntry } from './entry.js'
import type { GuardedRemote } from './guarded-remote.js'
import type { RedisClient } from './redis-client.js'
import type { RedisKeys } from './redis-keys.js'
import { releaseLockScript, runScript } from './redis-scripts.js'
import type { RedisTier } from './redis-tier.js'

/** A cross-instance single-flight lock, held until released or expired. */
export interface LockHandle {
  /** `false` for the stand-in handed out while Redis is unavailable (nobody else is excluded). */
  readonly held: boolean
  /** Releases the lock if this holder still owns it, and wakes the waiters. Idempotent; never rejects. */
  release(): Promise<void>
}

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
 * at most one poll interval; when the lock is gone without an entry (the
 * holder failed or died and the lock expired) they stop waiting and try to
 * acquire it themselves.
 */
export class RedisLocks {
  readonly #options: RedisLocksOptions
  readonly #lockTtlMs: number
  readonly #pollIntervalMs: number
  readonly #waiters = new Map<string, Set<Waiter>>()
  #closed = false

  constructor(options: RedisLocksOptions) {
    this.#options = options
    this.#lockTtlMs = options.lockTtlMs ?? 30_000
    this.#pollIntervalMs = options.pollIntervalMs ?? 150
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
      release: async () => {
        if (released) return
        released = true
        const args = [token, keys.writtenChannel, key]
        await remote.call(() => runScript(client, releaseLockScript, [lockKey], args), undefined)
      },
    }
  }

  /**
   * Waits until the entry of `key` is written. `undefined` on timeout, when
   * the lock is gone without an entry, or when Redis is unavailable: the
   * caller then tries {@link acquire} again.
   */
  async waitForEntry(key: string, timeoutMs: number): Promise<CacheEntry | undefined> {
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
        if (entry !== undefined) return entry
        const remainingMs = deadline - Date.now()
        if (!locked || remainingMs <= 0) return undefined
        await this.#sleep(waiter, Math.min(this.#pollIntervalMs, remainingMs))
      }
      return undefined
    } finally {
      waiters.delete(waiter)
      if (waiters.size === 0 && this.#waiters.get(key) === waiters) this.#waiters.delete(key)
    }
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
