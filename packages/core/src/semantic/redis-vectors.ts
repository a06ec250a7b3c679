import { GuardedRemote } from '../store/guarded-remote.js'
import type { RedisClient } from '../store/redis-client.js'
import { type LuaScript, runScript } from '../store/redis-scripts.js'
import { createHash } from 'node:crypto'

/** A stored question as Redis keeps it, or the note that one was removed. */
export type VectorRecord = { key: string; text: string; vector: Float32Array } | { key: string; removed: true }

/** Records read after a stream position, and the position of the last one. */
export interface VectorPage {
  records: VectorRecord[]
  /** The last record's id; the position given when there was none. */
  lastId: string
}

// Entries per read: a context's whole stream comes in pages of this size.
const pageSize = 1000
// Pages one sync reads at most: a larger backlog is read by the next lookups.
const maxPagesPerSync = 100

function script(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') }
}

/**
 * Appends a stored question to its context's stream, trimmed to about
 * `maxlen`, and makes the stream live at least as long as the new entry.
 * KEYS: stream. ARGV: maxlen, exact key, text, vector bytes, ttl ms.
 */
const appendScript = script(`
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'k', ARGV[2], 't', ARGV[3], 'v', ARGV[4])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return id`)

/** The little-endian float32 bytes of a vector (a copy). */
export function vectorBytes(vector: Float32Array): Buffer {
  const bytes = Buffer.alloc(vector.length * 4)
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i]!, i * 4)
  return bytes
}

function vectorOf(bytes: Buffer): Float32Array | undefined {
  if (bytes.byteLength === 0 || bytes.byteLength % 4 !== 0) return undefined
  const vector = new Float32Array(bytes.byteLength / 4)
  for (let i = 0; i < vector.length; i++) vector[i] = bytes.readFloatLE(i * 4)
  return vector
}

function recordOf(fields: Buffer[]): VectorRecord | undefined {
  const values = new Map<string, Buffer>()
  for (let i = 0; i + 1 < fields.length; i += 2) values.set(fields[i]!.toString('latin1'), fields[i + 1]!)
  const key = values.get('k')?.toString('utf8')
  if (key === undefined || key === '') return undefined
  if (values.has('d')) return { key, removed: true }
  const text = values.get('t')?.toString('utf8')
  const vector = values.get('v')
  const decoded = vector && vectorOf(vector)
  return text === undefined || decoded === undefined ? undefined : { key, text, vector: decoded }
}

/** What {@link RedisVectors} is made with. */
export interface RedisVectorsOptions {
  client: RedisClient
  /** The Redis layer's key prefix (`redis.prefix`). */
  prefix: string
  /** Longest wait for one Redis call; past it the call counts as failed. */
  timeoutMs: number
  /** About how many records a context's stream keeps (older ones are trimmed). */
  maxPerContext: number
}

/**
 * The semantic tier's share of Redis: one stream per context key,
 * `${prefix}:sem:{${context}}`, whose records are stored questions (exact
 * key, text, float32 vector) and removals, in the order instances wrote
 * them. An instance reads a context's stream once, then only what was
 * appended since the last record it read. Every call is fail-open: a Redis
 * that is slow or down makes a lookup use what this instance holds.
 */
export class RedisVectors {
  readonly #client: RedisClient
  readonly #prefix: string
  readonly #maxPerContext: number
  readonly #remote: GuardedRemote

  constructor(options: RedisVectorsOptions) {
    this.#client = options.client
    this.#prefix = options.prefix
    this.#maxPerContext = options.maxPerContext
    this.#remote = new GuardedRemote({ timeoutMs: options.timeoutMs })
  }

  /** The stream of a context: its own hash tag, so each context lives on one cluster slot. */
  streamKey(context: string): string {
    return `${this.#prefix}:sem:{${context}}`
  }

  /** Records after `afterId` (`undefined`: from the start); `undefined` when Redis did not answer. */
  async read(context: string, afterId: string | undefined): Promise<VectorPage | undefined> {
    const key = this.streamKey(context)
    const records: VectorRecord[] = []
    let lastId = afterId
    for (let page = 0; page < maxPagesPerSync; page++) {
      const start = lastId === undefined ? '-' : `(${lastId}`
      const entries = await this.#remote.call(() => this.#client.xrangeBuffer(key, start, '+', 'COUNT', pageSize), undefined)
      if (entries === undefined) return page === 0 ? undefined : { records, lastId: lastId ?? '0-0' }
      for (const [id, fields] of entries) {
        lastId = id.toString('latin1')
        const record = recordOf(fields)
        if (record !== undefined) records.push(record)
      }
      if (entries.length < pageSize) break
    }
    return { records, lastId: lastId ?? '0-0' }
  }

  /** Appends a stored question; the stream then lives at least `ttlMs`. */
  async append(context: string, key: string, text: string, vector: Float32Array, ttlMs: number): Promise<void> {
    const args = [this.#maxPerContext, key, text, vectorBytes(vector), Math.max(1, Math.ceil(ttlMs))]
    await this.#remote.call(() => runScript(this.#client, appendScript, [this.streamKey(context)], args), undefined)
  }

  /** Appends the removal of `key` (its entry is gone), so every instance drops it. */
  async remove(context: string, key: string): Promise<void> {
    const stream = this.streamKey(context)
    await this.#remote.call(() => this.#client.xadd(stream, 'MAXLEN', '~', this.#maxPerContext, '*', 'k', key, 'd', '1'), undefined)
  }

  close(): void {
    this.#remote.close()
  }
}
