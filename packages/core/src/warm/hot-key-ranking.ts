import type { RedisClient } from '../store/redis-client.js'
import type { DrainedCounts } from './hot-key-counts.js'

/** What {@link HotKeyRanking} is made with. */
export interface HotKeyRankingOptions {
  client: RedisClient
  /** The Redis layer's `prefix`. */
  prefix: string
  /** Length of one ranking period (ms). */
  periodMs: number
  /** Periods the ranking looks back; each set expires after that many. */
  periods: number
  /** Members kept per set: the lowest counts are trimmed at each flush. */
  maxRankedKeys: number
  /** Deadline of one flush or one read (ms). */
  timeoutMs: number
  /** The clock. @default Date.now */
  now?: () => number
}

/** A key of the ranking with its weighted count. */
export interface RankedKey {
  readonly key: string
  readonly score: number
}

/**
 * The ranking of hot keys in Redis: one sorted set per namespace,
 * generation and period, `${prefix}:{hot:${namespace}}:${generation}:${period}`,
 * whose members are cache keys and scores how often they were asked for.
 * The hash tag keeps a namespace's sets on one Cluster slot, so a flush is
 * one pipeline. Old popularity decays by period: a read weighs each older
 * period half as much as the next, and each set expires after `periods`
 * periods, so nothing ever rewrites old counts and instances need no
 * coordination. The generation in the name leaves the counts of an
 * invalidated namespace behind (its keys can no longer be hit).
 */
export class HotKeyRanking {
  readonly #client: RedisClient
  readonly #prefix: string
  readonly #periodMs: number
  readonly #periods: number
  readonly #maxRankedKeys: number
  readonly #timeoutMs: number
  readonly #now: () => number

  constructor(options: HotKeyRankingOptions) {
    this.#client = options.client
    this.#prefix = options.prefix
    this.#periodMs = options.periodMs
    this.#periods = options.periods
    this.#maxRankedKeys = options.maxRankedKeys
    this.#timeoutMs = options.timeoutMs
    this.#now = options.now ?? Date.now
  }

  /** The set of one namespace, generation and period. */
  setKey(namespace: string, generation: number, period: number): string {
    return `${this.#prefix}:{hot:${namespace}}:${generation}:${period}`
  }

  /**
   * Adds counts to the current period's sets: per namespace one pipeline of
   * `ZINCRBY`s, a `ZREMRANGEBYRANK` that keeps the `maxRankedKeys` highest,
   * and a `PEXPIRE`. Rejects when Redis fails or is slower than `timeoutMs`.
   */
  async add(drained: readonly DrainedCounts[]): Promise<void> {
    const period = Math.floor(this.#now() / this.#periodMs)
    const flushes = drained.map(({ namespace, generation, counts }) => {
      const setKey = this.setKey(namespace, generation, period)
      const pipeline = this.#client.pipeline()
      for (const [key, count] of counts) pipeline.zincrby(setKey, count, key)
      pipeline.zremrangebyrank(setKey, 0, -(this.#maxRankedKeys + 1))
      pipeline.pexpire(setKey, this.#periodMs * this.#periods)
      return pipeline.exec().then(failedCommand)
    })
    await within(Promise.all(flushes), this.#timeoutMs, 'flushing the hot-key counts')
  }

  /**
   * The `limit` hottest keys of a namespace's generation, hottest first:
   * the top of each of the last `periods` sets, each older period weighing
   * half as much as the next. Rejects when Redis fails or is slow.
   */
  async top(namespace: string, generation: number, limit: number): Promise<RankedKey[]> {
    if (limit === 0) return []
    const current = Math.floor(this.#now() / this.#periodMs)
    const pipeline = this.#client.pipeline()
    for (let age = 0; age < this.#periods; age++) pipeline.zrevrange(this.setKey(namespace, generation, current - age), 0, limit - 1, 'WITHSCORES')
    const answers = failedCommand(await within(pipeline.exec(), this.#timeoutMs, 'reading the hot-key ranking'))
    const scores = new Map<string, number>()
    answers.forEach(([, reply], age) => {
      const flat = reply as string[]
      const weight = 0.5 ** age
      for (let index = 0; index + 1 < flat.length; index += 2) {
        const key = flat[index]!
        scores.set(key, (scores.get(key) ?? 0) + Number(flat[index + 1]) * weight)
      }
    })
    return [...scores]
      .map(([key, score]) => ({ key, score }))
      .sort((first, second) => second.score - first.score)
      .slice(0, limit)
  }
}

type PipelineAnswers = Array<[error: Error | null, reply: unknown]>

/** The pipeline's answers; throws the first command's error (ioredis resolves a pipeline even when commands fail). */
function failedCommand(answers: PipelineAnswers | null): PipelineAnswers {
  if (answers === null) throw new Error('the Redis pipeline was discarded')
  const failed = answers.find(([error]) => error !== null)
  if (failed) throw failed[0]
  return answers
}

/** `promise`, or a rejection once `timeoutMs` passed. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis took longer than ${timeoutMs} ms ${what}`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
