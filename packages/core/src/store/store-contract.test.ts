import { type RedisCluster, skipWithoutRedis, startRedisCluster, startRedisServer } from '@aicache/testkit/redis'
import type { Cluster, Redis } from 'ioredis'
import { describeStoreContract, type StoreUnderTest } from '@aicache/testkit/contracts'
import * as vitest from 'vitest'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createMemoryTier } from './memory-tier.js'
import { createRedisLayer, type RedisLayer } from './redis-layer.js'
import { redisKeys } from './redis-keys.js'
import { closeClient, clusterClient, eventually, generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'
import { sampleEntry } from '../../test/support/store-entries.js'

const keys = redisKeys('aicache')

function redisSubject(layer: RedisLayer, raw: Redis | Cluster, stop: () => Promise<void>): StoreUnderTest {
  return {
    store: layer,
    writeRaw: async (key, bytes) => {
      await raw.set(keys.entry(key), bytes)
    },
    readRaw: async (key) => (await raw.getBuffer(keys.entry(key))) ?? undefined,
    close: async () => {
      await layer.close()
      closeClient(raw)
      await stop()
    },
  }
}

describeStoreContract(vitest, {
  name: 'memory tier',
  create: async () => {
    const tier = createMemoryTier({ maxBytes: 16 * 1024 * 1024 })
    return {
      store: {
        get: async (key) => tier.get(key),
        set: async (key, entry) => tier.set(key, entry),
        delete: async (key) => {
          tier.delete(key)
        },
      },
      close: async () => tier.clear(),
    }
  },
  holdsRawBytes: false,
})

describe.skipIf(skipWithoutRedis())('Redis', () => {
  describeStoreContract(vitest, {
    name: 'Redis',
    create: async () => {
      const server = await startRedisServer()
      const layer = await createRedisLayer({ redis: server.url, timeoutMs: generousTimeoutMs })
      return redisSubject(layer, rawClient(server.url), () => server.stop())
    },
  })

  describeStoreContract(vitest, {
    name: 'Redis Cluster (3 masters)',
    create: async () => {
      const cluster = await startRedisCluster()
      const client = await clusterClient(cluster)
      const layer = await createRedisLayer({ redis: client, timeoutMs: generousTimeoutMs })
      return redisSubject(layer, client, () => cluster.stop())
    },
  })

  describe('Redis Cluster: placement, locks and the bus', () => {
    let cluster: RedisCluster
    let client: Cluster
    let layer: RedisLayer
    beforeAll(async () => {
      cluster = await startRedisCluster()
      client = await clusterClient(cluster)
      layer = await createRedisLayer({ redis: client, timeoutMs: generousTimeoutMs })
    })
    afterAll(async () => {
      await layer?.close()
      closeClient(client)
      await cluster?.stop()
    })

    it('spreads entries over every master', async () => {
      await Promise.all(Array.from({ length: 60 }, (_, index) => layer.set(`spread-${index}`, sampleEntry())))
      const sizes = await Promise.all(client.nodes('master').map((node) => node.dbsize()))
      expect(sizes).toHaveLength(3)
      for (const size of sizes) expect(size).toBeGreaterThan(5)
    })

    it('keeps an entry and its lock on one slot (locks and wake-ups work)', async () => {
      const lock = await layer.acquire('tagged')
      expect(lock?.held).toBe(true)
      const waiting = layer.waitForAnswer('tagged', 3_000)
      await layer.set('tagged', sampleEntry({ model: 'tagged' }))
      expect((await waiting)?.entry?.model).toBe('tagged')
      // The release script touches the lock and the failure marker: one slot too.
      await lock!.release({ kind: 'error', code: 'upstream_timeout', message: 'slow' })
      expect(await client.exists(keys.lock('tagged'))).toBe(0)
      expect(await client.exists(keys.failure('tagged'))).toBe(1)
    })

    it('carries bumps between instances, and re-reads after the subscriber is killed', async () => {
      const other = await createRedisLayer({ redis: client, timeoutMs: generousTimeoutMs })
      try {
        await layer.bumpGeneration('cluster-docs')
        await eventually(() => other.generation('cluster-docs') === 1, 2_000, 'the bump on the other instance')
        await eventually(() => other.isGenerationSynced('cluster-docs'), 2_000, 'synced')
        await Promise.all(client.nodes('master').map((node) => node.call('CLIENT', 'KILL', 'TYPE', 'pubsub')))
        await layer.bumpGeneration('cluster-docs')
        await eventually(() => other.generation('cluster-docs') === 2, 5_000, 'the re-read after the reconnect')
        await eventually(() => other.isGenerationSynced('cluster-docs'), 5_000, 'synced again')
      } finally {
        await other.close()
      }
    })
  })
})
