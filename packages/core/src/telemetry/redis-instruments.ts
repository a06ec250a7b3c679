import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api'
import type { RedisServerFacts } from '../store/redis-info.js'

/** Names of the metrics read from the Redis layer and Redis's own `INFO`. */
export const redisMetric = {
  connected: 'aicache.redis.connected',
  memoryUsed: 'aicache.redis.memory.used',
  memoryMax: 'aicache.redis.memory.max',
  keys: 'aicache.redis.keys',
  evictedKeys: 'aicache.redis.keys.evicted',
  expiredKeys: 'aicache.redis.keys.expired',
  keyspaceHits: 'aicache.redis.keyspace.hits',
  keyspaceMisses: 'aicache.redis.keyspace.misses',
} as const

/** What the Redis metrics are read from: the engine's Redis layer. */
export interface RedisSource {
  readonly connected: boolean
  readonly server: RedisServerFacts | undefined
}

/** One engine's Redis layer, with the attributes of its series (`aicache.engine` when named). */
export interface RedisLayerSeries {
  key: string
  attributes: Attributes
  layer: RedisSource
}

/**
 * Observable instruments of the Redis layer, read when a metric reader
 * collects: nothing is recorded without Redis, and the `INFO` ones only once
 * a read succeeded (`redis.infoIntervalMs`). Redis's counters start again
 * when the server restarts or another node takes over; the exporters treat
 * a lower value as a counter reset. Registered once per meter provider;
 * engines of one series (unnamed, or of one name) report the same Redis,
 * so their readings are not added: the largest is reported (for
 * `connected`, the smallest: one engine without its connection shows).
 */
export function observeRedis(meter: Meter, layers: () => Iterable<RedisLayerSeries>): void {
  const observe = (result: ObservableResult, read: (layer: RedisSource) => number | undefined, pick: (a: number, b: number) => number = Math.max) => {
    const points = new Map<string, { attributes: Attributes; value: number }>()
    for (const { key, attributes, layer } of layers()) {
      const value = read(layer)
      if (value === undefined) continue
      const point = points.get(key)
      if (point === undefined) points.set(key, { attributes, value })
      else point.value = pick(point.value, value)
    }
    for (const point of points.values()) result.observe(point.value, point.attributes)
  }
  meter
    .createObservableGauge(redisMetric.connected, { description: 'Whether the Redis connection is up: 1 or 0' })
    .addCallback((result) => observe(result, (layer) => (layer.connected ? 1 : 0), Math.min))
  const fact = (read: (server: RedisServerFacts) => number) => (layer: RedisSource) => (layer.server === undefined ? undefined : read(layer.server))
  const gauge = (name: string, unit: string, description: string, read: (server: RedisServerFacts) => number) =>
    meter.createObservableGauge(name, { unit, description }).addCallback((result) => observe(result, fact(read)))
  const counter = (name: string, unit: string, description: string, read: (server: RedisServerFacts) => number) =>
    meter.createObservableCounter(name, { unit, description }).addCallback((result) => observe(result, fact(read)))
  gauge(redisMetric.memoryUsed, 'By', 'Memory Redis uses (INFO used_memory)', (server) => server.usedMemoryBytes)
  gauge(redisMetric.memoryMax, 'By', 'Redis maxmemory; 0 for no limit', (server) => server.maxMemoryBytes)
  gauge(redisMetric.keys, '{key}', 'Keys in the Redis database aicache uses', (server) => server.keys)
  counter(redisMetric.evictedKeys, '{key}', 'Keys Redis evicted to stay under maxmemory', (server) => server.evictedKeys)
  counter(redisMetric.expiredKeys, '{key}', 'Keys Redis removed when their TTL ran out', (server) => server.expiredKeys)
  counter(redisMetric.keyspaceHits, '{read}', 'Redis reads that found their key (all clients)', (server) => server.keyspaceHits)
  counter(redisMetric.keyspaceMisses, '{read}', 'Redis reads that did not find their key (all clients)', (server) => server.keyspaceMisses)
}
