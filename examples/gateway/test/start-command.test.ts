import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { freePort, type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pnpmStart, type StartedGateway, waitFor } from './pnpm-start.js'

// `pnpm start` as users type it: from the repository root, through the root
// package.json script (a turbo build, then the gateway), with the variables
// of docs/configuration.md.

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Is my order on its way?' }] }
const adminToken = 'admin-token-for-the-start-test'

function redisKeys(server: RedisServer): string[] {
  const output = execFileSync('redis-cli', ['-p', String(server.port), '--scan', '--pattern', 'aicache*'], { encoding: 'utf8' })
  return output.split('\n').filter(Boolean)
}

describe.skipIf(skipWithoutRedis())('pnpm start', () => {
  let fake: FakeUpstream
  let redis: RedisServer
  let directory: string
  const gateways: StartedGateway[] = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    redis = await startRedisServer()
    directory = mkdtempSync(join(tmpdir(), 'aicache-start-'))
  })
  afterAll(async () => {
    await Promise.all(gateways.map((gateway) => gateway.stop()))
    await fake.close()
    await redis.stop()
    rmSync(directory, { recursive: true, force: true })
  })

  it('passes PORT, AICACHE_UPSTREAM_URL, AICACHE_ADMIN_TOKEN, AICACHE_CONFIG and REDIS_URL to the gateway', { timeout: 60_000 }, async () => {
    const configPath = join(directory, 'aicache.json')
    // Observable settings: no memory tier (a hit can only come from Redis) and a small body limit.
    writeFileSync(configPath, JSON.stringify({ memoryTier: false, maxBodyBytes: 4096 }))
    const port = await freePort()
    const gateway = await pnpmStart({
      PORT: String(port),
      AICACHE_UPSTREAM_URL: fake.url,
      AICACHE_ADMIN_TOKEN: adminToken,
      AICACHE_CONFIG: configPath,
      REDIS_URL: redis.url,
    })
    gateways.push(gateway)
    expect(gateway.url).toBe(`http://127.0.0.1:${port}`)
    expect(await waitFor(() => gateway.output().includes('redis: '), 2_000)).toBe(true)
    expect(gateway.output()).not.toMatch(/demo upstream/)
    expect(gateway.output()).toMatch(/^redis: connected$/m)

    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-start', maxRetries: 0 })
    const miss = await openai.chat.completions.create(question).withResponse()
    expect(miss.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    // The configured upstream answered, not the built-in demo one.
    expect(fake.callCount()).toBe(1)

    // The entry reaches Redis after the answer (never on its critical path).
    expect(await waitFor(() => redisKeys(redis).length > 0, 5_000)).toBe(true)
    const hit = await openai.chat.completions.create(question).withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    expect(hit.data).toEqual(miss.data)
    expect(fake.callCount()).toBe(1)

    const stats = await fetch(`${gateway.url}/aicache/stats`, { headers: { authorization: `Bearer ${adminToken}` } })
    expect(stats.status).toBe(200)
    // memoryTier: false from the config file, so the hit was Redis's.
    expect(await stats.json()).toMatchObject({ hits: { l1: 0, l2: 1 }, misses: 1, redis: { connected: true, state: 'closed' } })
    expect((await fetch(`${gateway.url}/aicache/stats`)).status).toBe(401)

    // maxBodyBytes from the config file.
    const large = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-start' },
      body: JSON.stringify({ ...question, messages: [{ role: 'user', content: 'x'.repeat(5_000) }] }),
    })
    expect(large.status).toBe(413)
    expect(fake.callCount()).toBe(1)
  })

  it('says Redis is unavailable, and serves without it, when nothing listens on REDIS_URL', { timeout: 60_000 }, async () => {
    const closedPort = await freePort()
    const gateway = await pnpmStart({ PORT: '0', AICACHE_UPSTREAM_URL: fake.url, REDIS_URL: `redis://127.0.0.1:${closedPort}` })
    gateways.push(gateway)
    expect(await waitFor(() => gateway.output().includes('redis: '), 2_000)).toBe(true)
    expect(gateway.output()).toMatch(/^redis: unavailable, serving without it/m)
    expect(gateway.output()).not.toMatch(/redis: connected/)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-start', maxRetries: 0 })
    const answer = await openai.chat.completions.create({ ...question, messages: [{ role: 'user', content: 'And without Redis?' }] })
    expect(answer.choices[0]?.message.content).toBeTruthy()
  })
})
