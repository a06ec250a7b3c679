import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRedisLayer, type RedisLayer, type RedisLayerOptions } from './redis-layer.js'
import { redisKeys } from './redis-keys.js'
import { closeClient, eventually, generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'
import { expectSameEntry, sampleEntry } from '../../test/support/store-entries.js'

async function timed<T>(work: Promise<T>): Promise<{ value: T; elapsedMs: number }> {
  const startedAt = performance.now()
  const value = await work
  return { value, elapsedMs: performance.now() - startedAt }
}

describe.skipIf(skipWithoutRedis())('cross-instance single-flight', () => {
  let server: RedisServer
  let layers: RedisLayer[]

  beforeEach(async () => {
    server = await startRedisServer()
    layers = []
  })
  afterEach(async () => {
    await Promise.all(layers.map((layer) => layer.close()))
    await server.stop()
  })

  async function layer(options: Partial<RedisLayerOptions> = {}): Promise<RedisLayer> {
    const created = await createRedisLayer({ redis: server.url, timeoutMs: generousTimeoutMs, ...options })
    layers.push(created)
    return created
  }

  it('lets one instance hold a key and tells the other it is taken', async () => {
    const [a, b] = [await layer(), await layer()]
    const lock = await a.acquire('key')
    expect(lock?.held).toBe(true)
    expect(await b.acquire('key')).toBeUndefined()
    expect((await b.acquire('other-key'))?.held).toBe(true)
    await lock!.release()
    await lock!.release()
    expect((await b.acquire('key'))?.held).toBe(true)
  })

  it('wakes a waiter when the holder writes the entry', async () => {
    const [a, b] = [await layer(), await layer()]
    const lock = await a.acquire('key')
    const waiting = timed(b.waitForAnswer('key', 5_000))
    const entry = sampleEntry({ model: 'produced' })
    setTimeout(() => void a.set('key', entry).then(() => lock!.release()), 400)
    const { value, elapsedMs } = await waiting
    expectSameEntry(value?.entry, entry)
    expect(elapsedMs).toBeGreaterThanOrEqual(390)
    expect(elapsedMs).toBeLessThan(1_500)
  })

  it('announces a written entry on the written channel only while its key is locked', async () => {
    const a = await layer()
    const listener = rawClient(server.url)
    try {
      const heard: string[] = []
      listener.on('message', (_channel: string, key: string) => heard.push(key))
      await listener.subscribe('aicache:written')
      await a.set('unlocked', sampleEntry())
      const lock = await a.acquire('locked')
      await a.set('locked', sampleEntry())
      await eventually(() => heard.includes('locked'), 1_000, 'the written message')
      await lock!.release()
      await eventually(() => heard.length === 2, 1_000, 'the release message')
      expect(heard).toEqual(['locked', 'locked'])
    } finally {
      closeClient(listener)
    }
  })

  it('wakes waiters on the same instance too', async () => {
    const a = await layer()
    const lock = await a.acquire('key')
    const waiting = a.waitForAnswer('key', 5_000)
    await a.set('key', sampleEntry())
    expect(await waiting).toBeDefined()
    await lock!.release()
  })

  it('stops waiting when the lock is released without an entry, so the waiter can take over', async () => {
    const [a, b] = [await layer(), await layer()]
    const lock = await a.acquire('key')
    const waiting = timed(b.waitForAnswer('key', 5_000))
    setTimeout(() => void lock!.release(), 200)
    const { value, elapsedMs } = await waiting
    expect(value).toBeUndefined()
    expect(elapsedMs).toBeLessThan(1_000)
    expect((await b.acquire('key'))?.held).toBe(true)
  })

  it('hands a waiter the failure its holder released the lock with, kept only a few seconds', async () => {
    const [a, b] = [await layer(), await layer()]
    const lock = await a.acquire('key')
    const waiting = b.waitForAnswer('key', 5_000)
    const failure = { kind: 'response', status: 503, headers: { 'retry-after': '2' }, body: Buffer.from('{"error":{}}') } as const
    setTimeout(() => void lock!.release(failure), 100)
    expect(await waiting).toEqual({ failure })
    const client = rawClient(server.url)
    try {
      const ttlMs = await client.pttl(redisKeys('aicache').failure('key'))
      expect(ttlMs).toBeGreaterThan(0)
      expect(ttlMs).toBeLessThanOrEqual(5_000)
    } finally {
      closeClient(client)
    }
    // The failure is for those who waited: a new request takes the lock and calls again.
    expect((await b.acquire('key'))?.held).toBe(true)
  })

  it('a release without a failure clears an older one, so no waiter is ever given a stale failure', async () => {
    const [a, b] = [await layer(), await layer()]
    const failed = await a.acquire('key')
    await failed!.release({ kind: 'error', code: 'upstream_timeout', message: 'slow' })
    const lock = await a.acquire('key')
    const waiting = b.waitForAnswer('key', 5_000)
    setTimeout(() => void lock!.release(), 100)
    expect(await waiting).toBeUndefined()
  })

  it('gives up after timeoutMs while the lock is held and nothing is written', async () => {
    const [a, b] = [await layer(), await layer()]
    await a.acquire('key')
    const { value, elapsedMs } = await timed(b.waitForAnswer('key', 300))
    expect(value).toBeUndefined()
    expect(elapsedMs).toBeGreaterThanOrEqual(290)
    expect(elapsedMs).toBeLessThan(1_000)
  })

  it('lets a waiter take over when the holder dies and its lock expires', async () => {
    const a = await layer({ lockTtlMs: 300 })
    const b = await layer()
    const abandoned = await a.acquire('key')
    expect(abandoned?.held).toBe(true)
    expect(await b.acquire('key')).toBeUndefined()
    const { value, elapsedMs } = await timed(b.waitForAnswer('key', 5_000))
    expect(value).toBeUndefined()
    expect(elapsedMs).toBeLessThan(1_500)
    const takeover = await b.acquire('key')
    expect(takeover?.held).toBe(true)
    // The late release of the dead holder must not free the new holder's lock.
    await abandoned!.release()
    expect(await a.acquire('key')).toBeUndefined()
    await takeover!.release()
  })

  it('hands out a stand-in handle and does not wait while Redis is down', async () => {
    const a = await layer()
    await server.kill()
    const lock = await a.acquire('key')
    expect(lock).toEqual({ held: false, release: expect.any(Function) })
    await expect(lock!.release()).resolves.toBeUndefined()
    const { value, elapsedMs } = await timed(a.waitForAnswer('key', 5_000))
    expect(value).toBeUndefined()
    expect(elapsedMs).toBeLessThan(500)
  })
})
