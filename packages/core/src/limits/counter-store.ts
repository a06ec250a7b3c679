/**
 * One change to a counter of a scope.
 *
 * A counter is a time in milliseconds: the moment its budget is whole again
 * (GCRA's "theoretical arrival time"). Spending moves it forward, giving back
 * moves it back; it never reads earlier than now, since a budget cannot be
 * fuller than whole.
 */
export interface CounterChange {
  /** The counter's name within the scope, e.g. `'requests'`. */
  counter: string
  /** How far to move the counter: positive spends, negative gives back. */
  addMs: number
  /**
   * The change is refused if the counter would end more than this far ahead
   * of now. `Infinity` for a change that must always apply (settling).
   */
  maxAheadMs: number
}

/** What {@link CounterStore.update} did. */
export interface CounterUpdate {
  /** False when one change would have gone past its `maxAheadMs`; then nothing changed. */
  applied: boolean
  /** The clock the store decided with (a Redis store may use the server's). */
  nowMs: number
  /**
   * Each counter after the update, or as found (but not before `nowMs`) when
   * not applied, in the order of the changes.
   */
  values: number[]
}

/**
 * Where a rate limiter keeps its counters. The algorithm lives in the limiter
 * (`rate-limiter.ts`); a store only applies one update atomically, all of its
 * changes or none, so several app instances sharing one store never admit
 * more than the limit between them.
 *
 * For each change: `next = max(max(stored ?? nowMs, nowMs) + addMs, nowMs)`;
 * when any change with `addMs > 0` has `next - nowMs > maxAheadMs`, nothing is
 * written. A counter at or before now can be forgotten: it reads as now.
 */
export interface CounterStore {
  update(scope: string, changes: readonly CounterChange[], nowMs: number): Promise<CounterUpdate>
  /** In this process: it cannot hang or fail, so it needs no timeout or breaker around it. */
  readonly local?: boolean
}
