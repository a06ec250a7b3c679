import type { CacheEntry } from '../store/entry.js'
import type { LockHandle, RedisLayer, SharedFailure } from '../store/redis-layer.js'

/** What cross-instance single-flight gave a request: the lock to make the call, or another instance's entry or failure. */
export interface Claim {
  lock?: LockHandle
  entry?: CacheEntry
  failure?: SharedFailure
}

/** The locks and wake-ups of cross-instance single-flight (the Redis layer has them). */
export type ClaimLocks = Pick<RedisLayer, 'acquire' | 'waitForAnswer'>

/**
 * Cross-instance single-flight: waits while another instance makes the
 * same call. Returns its entry once written, its failure if it failed, or
 * the lock to make the call here (none when waiting took longer than
 * `lockWaitMs`).
 */
export async function claimAcross(locks: ClaimLocks, key: string, lockWaitMs: number): Promise<Claim> {
  const deadline = Date.now() + lockWaitMs
  for (;;) {
    const lock = await locks.acquire(key)
    if (lock !== undefined) return { lock }
    const remainingMs = deadline - Date.now()
    if (remainingMs <= 0) return {}
    // The entry the holder wrote, or the failure it ended with (answered
    // as it is, not called again); if it died, try to take over.
    const answer = await locks.waitForAnswer(key, remainingMs)
    if (answer !== undefined) return answer
  }
}
