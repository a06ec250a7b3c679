import { isCluster, type RedisClient } from './redis-client.js'

/**
 * What Redis says about itself (`INFO`), summed over the masters of a
 * Cluster. Counters count since the server started (a restart or failover
 * to another node starts them again).
 */
export interface RedisServerFacts {
  /** `used_memory`: bytes Redis holds. */
  usedMemoryBytes: number
  /** `maxmemory`: the limit in bytes; 0 for none. */
  maxMemoryBytes: number
  /** `maxmemory_policy` (the first master's, in a Cluster). */
  maxMemoryPolicy: string
  /** `evicted_keys`: keys removed to stay under `maxmemory`; the first sign that L2 is too small. */
  evictedKeys: number
  /** `expired_keys`: keys removed when their TTL ran out. */
  expiredKeys: number
  /** `keyspace_hits`: reads that found their key (every client's, not aicache's alone). */
  keyspaceHits: number
  /** `keyspace_misses`: reads that did not. */
  keyspaceMisses: number
  /** Keys in the database the layer uses (database 0 in a Cluster). */
  keys: number
  /** Masters read (1 unless a Cluster). */
  nodes: number
  /** When these were read (ms since the epoch). */
  readAt: number
}

/** Options of {@link RedisInfo}. */
export interface RedisInfoOptions {
  client: RedisClient
  /** Pause between reads (ms); 0 reads once, for the check at start. */
  intervalMs: number
  /** Where the one warning about the configuration goes. */
  warn(message: string): void
}

// INFO is cheap, but a server under load may be slow: a read that takes
// longer is dropped (the previous facts stay) rather than piling up.
const readTimeoutMs = 2_000
// Until the check at start has run (Redis down at start), it is tried this often.
const checkRetryMs = 1_000

type InfoFields = ReadonlyMap<string, string>

/** `INFO`'s `field:value` lines. */
export function parseInfo(text: string): InfoFields {
  const fields = new Map<string, string>()
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return fields
}

function number(fields: InfoFields, name: string): number {
  const value = Number(fields.get(name))
  return Number.isFinite(value) ? value : 0
}

/** Keys of `db<N>:keys=12,expires=3,avg_ttl=0`. */
function keysOf(fields: InfoFields, db: number): number {
  const match = /(?:^|,)keys=(\d+)/.exec(fields.get(`db${db}`) ?? '')
  return match ? Number(match[1]) : 0
}

/**
 * What is wrong with a server's memory settings for a cache, as one
 * sentence with the fix, or `undefined`. Every entry aicache writes has a
 * TTL, so `volatile-*` policies evict entries as `allkeys-*` ones do (and
 * keep the namespace generations, which have none); `noeviction` refuses
 * writes once full, and no `maxmemory` lets Redis grow until the machine
 * runs out of memory.
 */
export function memoryAdvice(fields: InfoFields): string | undefined {
  // Without a limit the policy never comes into play: the limit is the problem to name.
  let problem: string
  if (number(fields, 'maxmemory') === 0) {
    problem = 'has no maxmemory, so it grows with every answer stored until the machine runs out of memory'
  } else if (fields.get('maxmemory_policy') === 'noeviction') {
    problem = 'has maxmemory-policy noeviction, so once full it refuses every write: new answers are no longer shared ' + 'and single-flight locks fail'
  } else {
    return undefined
  }
  return (
    `${problem}. Give it a limit and an evicting policy: CONFIG SET maxmemory 1gb and ` +
    'CONFIG SET maxmemory-policy allkeys-lru (and the same in redis.conf); see docs/redis.md#memory'
  )
}

/**
 * Reads `INFO` from the layer's Redis: once at start, to check the memory
 * settings (one warning with the fix when they are unfit for a cache), and
 * then every `intervalMs` for {@link RedisServerFacts}. A failed read keeps
 * the previous facts; the connection's own state says whether Redis is up.
 * In a Cluster every master is read and the counters are summed.
 */
export class RedisInfo {
  readonly #options: RedisInfoOptions
  #facts: RedisServerFacts | undefined
  #checked = false
  #closed = false
  #timer: NodeJS.Timeout | undefined

  constructor(options: RedisInfoOptions) {
    this.#options = options
    void this.#tick()
  }

  /** The last facts read; `undefined` before the first read. */
  get facts(): RedisServerFacts | undefined {
    return this.#facts
  }

  /** Stops reading. */
  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
  }

  async #tick(): Promise<void> {
    const read = await this.#read().catch(() => undefined)
    if (this.#closed) return
    if (read !== undefined) {
      this.#facts = read.facts
      if (!this.#checked) {
        this.#checked = true
        if (read.advice.length > 0) this.#options.warn(`aicache: Redis ${read.advice.join('; ')}`)
      }
    }
    const { intervalMs } = this.#options
    const delayMs = intervalMs > 0 ? intervalMs : this.#checked ? undefined : checkRetryMs
    if (delayMs !== undefined) this.#timer = setTimeout(() => void this.#tick(), delayMs).unref()
  }

  async #read(): Promise<{ facts: RedisServerFacts; advice: string[] } | undefined> {
    const { client } = this.#options
    if (client.status !== 'ready') return undefined
    const nodes = isCluster(client) ? client.nodes('master') : [client]
    if (nodes.length === 0) return undefined
    const db = isCluster(client) ? 0 : (client.options.db ?? 0)
    const texts = await Promise.all(nodes.map((node) => withTimeout(node.info(), readTimeoutMs)))
    const all = texts.map(parseInfo)
    const sum = (name: string) => all.reduce((total, fields) => total + number(fields, name), 0)
    const facts: RedisServerFacts = {
      usedMemoryBytes: sum('used_memory'),
      maxMemoryBytes: sum('maxmemory'),
      maxMemoryPolicy: all[0]!.get('maxmemory_policy') ?? 'unknown',
      evictedKeys: sum('evicted_keys'),
      expiredKeys: sum('expired_keys'),
      keyspaceHits: sum('keyspace_hits'),
      keyspaceMisses: sum('keyspace_misses'),
      keys: all.reduce((total, fields) => total + keysOf(fields, db), 0),
      nodes: all.length,
      readAt: Date.now(),
    }
    const advice: string[] = []
    all.forEach((fields, index) => {
      const problem = memoryAdvice(fields)
      if (problem === undefined) return
      const node = nodes[index]!.options
      advice.push(isCluster(client) ? `node ${node.host}:${node.port} ${problem}` : problem)
    })
    return { facts, advice }
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`INFO took longer than ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    return await Promise.race([promise, late])
  } finally {
    clearTimeout(timer)
  }
}
