import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { InvalidationMessage } from './invalidation-messages.js'
import { createRedisLayer, type RedisLayer } from './redis-layer.js'
import { closeClient, eventually, generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'

describe.skipIf(skipWithoutRedis())('namespace generations and the invalidation bus', () => {
  let server: RedisServer
  let raw: Redis
  let layers: RedisLayer[]

  beforeEach(async () => {
    server = await startRedisServer()
    raw = rawClient(server.url)
    layers = []
  })
  afterEach(async () => {
    await Promise.all(layers.map((layer) => layer.close()))
    closeClient(raw)
    await server.stop()
  })

  async function layer(): Promise<{ layer: RedisLayer; heard: InvalidationMessage[] }> {
    const created = await createRedisLayer({ redis: server.url, timeoutMs: generousTimeoutMs })
    layers.push(created)
    const heard: InvalidationMessage[] = []
    created.onInvalidate((message) => heard.push(message))
    return { layer: created, heard }
  }

  it('bumps on one instance reach the other: generation and handler', async () => {
    const a = await layer()
    const b = await layer()
    expect(b.layer.generation('docs')).toBe(0)
    expect(await a.layer.bumpGeneration('docs')).toBe(1)
    // Applied on the bumping instance at once, its handler told once.
    expect(a.layer.generation('docs')).toBe(1)
    expect(a.heard).toEqual([{ kind: 'namespace', namespace: 'docs', generation: 1 }])
    await eventually(() => b.layer.generation('docs') === 1, 1_000, 'generation on B')
    await eventually(() => b.heard.some((message) => message.kind === 'namespace' && message.generation === 1), 1_000)
    expect(await raw.get('aicache:gen:docs')).toBe('1')
    expect(a.heard).toHaveLength(1)
  })

  it('broadcasts deletions to every instance, and tells its own handlers once', async () => {
    const a = await layer()
    const b = await layer()
    await a.layer.delete('some-key')
    expect(a.heard).toEqual([{ kind: 'key', key: 'some-key' }])
    await eventually(() => b.heard.some((message) => message.kind === 'key' && message.key === 'some-key'), 1_000)
    // Give our own echo time to arrive: it must not be handled a second time.
    await eventually(() => b.heard.length === 1, 1_000)
    expect(a.heard).toHaveLength(1)
  })

  it('reads a namespace bumped before it started, and only then calls it synced', async () => {
    const a = await layer()
    await a.layer.bumpGeneration('early')
    await a.layer.bumpGeneration('early')
    const b = await layer()
    expect(b.layer.isGenerationSynced('early')).toBe(false)
    expect(await b.layer.loadGeneration('early')).toBe(2)
    expect(b.layer.generation('early')).toBe(2)
    expect(b.layer.isGenerationSynced('early')).toBe(true)
  })

  it('re-reads every known generation after its subscriber was disconnected and missed a bump', async () => {
    const a = await layer()
    const b = await layer()
    expect(await a.layer.loadGeneration('missed')).toBe(0)
    expect(a.layer.isGenerationSynced('missed')).toBe(true)
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    // A's subscriber is gone (it reconnects after ~300 ms): this bump's message cannot reach it.
    expect(await b.layer.bumpGeneration('missed')).toBe(1)
    await eventually(() => !a.layer.isGenerationSynced('missed'), 1_000, 'A noticing the lost subscription')
    await eventually(() => a.layer.generation('missed') === 1, 3_000, 'A re-reading after the reconnect')
    await eventually(() => a.layer.isGenerationSynced('missed'), 3_000, 'A synced again')
    expect(a.heard).toContainEqual({ kind: 'namespace', namespace: 'missed', generation: 1 })
  })

  it('never reuses a generation after Redis lost its counters', async () => {
    const a = await layer()
    for (let bump = 0; bump < 3; bump++) await a.layer.bumpGeneration('lost')
    await raw.flushall()
    // A newcomer knows nothing and bumps from 0; A hears a lower generation and repairs Redis.
    const c = await layer()
    await c.layer.bumpGeneration('lost')
    await eventually(() => c.layer.generation('lost') > 3, 3_000, 'the newcomer past the old generation')
    await eventually(() => a.layer.generation('lost') === c.layer.generation('lost'), 3_000, 'A and C agreeing')
    expect(Number(await raw.get('aicache:gen:lost'))).toBe(a.layer.generation('lost'))
  })

  it('applies a bump made with Redis down at once, and hands it on once Redis is back', async () => {
    const a = await layer()
    const b = await layer()
    expect(await a.layer.loadGeneration('offline')).toBe(0)
    await server.kill()
    expect(await a.layer.bumpGeneration('offline')).toBe(1)
    expect(a.layer.generation('offline')).toBe(1)
    expect(a.layer.isGenerationSynced('offline')).toBe(false)
    await server.restart()
    await eventually(() => b.layer.generation('offline') >= 1, 5_000, 'the offline bump reaching B')
    await eventually(() => a.layer.isGenerationSynced('offline'), 5_000, 'A synced again')
    await eventually(() => b.layer.generation('offline') === a.layer.generation('offline'), 3_000, 'A and B agreeing')
  })
})
