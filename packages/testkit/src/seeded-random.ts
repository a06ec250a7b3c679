/**
 * A pseudo-random generator (mulberry32) seeded with a 32-bit integer: the
 * same seed gives the same sequence in every run and process, so a
 * probabilistic fault pattern is reproducible.
 *
 * @example
 * ```ts
 * const random = seededRandom(42)
 * random() // always the same first number in [0, 1) for seed 42
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let mixed = Math.imul(state ^ (state >>> 15), state | 1)
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61)
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296
  }
}
