/**
 * Work recorded together at the end of the event loop's turn.
 *
 * A server answers many requests in one turn of the event loop (every socket
 * that became readable while it was busy). Recording each request's span and
 * histogram point right after its answer interleaves the SDK's code with the
 * framework's: every call finds the CPU's caches full of other code, and
 * costs several times what it costs in a loop. Queued here and recorded in
 * one `setImmediate` after the turn's answers were written, they run back to
 * back, with nothing in between to evict them. The data is the same: each
 * record keeps its own times and parent context.
 */

/** Something with recording left to do. */
export interface Recordable {
  record(): void
}

let queued: Recordable[] = []

/** Runs everything queued so far, in the order it was queued. */
export function recordQueued(): void {
  const batch = queued
  if (batch.length === 0) return
  queued = []
  for (const item of batch) {
    try {
      item.record()
    } catch {
      // An SDK that throws loses that record, not the rest of the batch.
    }
  }
}

/** Queues `item` for the end of this turn. */
export function recordAtEndOfTurn(item: Recordable): void {
  if (queued.push(item) === 1) setImmediate(recordQueued)
}
