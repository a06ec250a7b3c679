import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { skipWithoutRedis } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AiCacheOptions } from '../options.js'
import { redisAclRules } from '../store/redis-acl.js'
import { opensslInstalled, startTlsRedisServer, type TlsRedisServer } from '../../test/support/redis-processes-support.js'
import { eventually, generousTimeoutMs } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

/**
 * A production Redis: TLS only, client certificates required, and aicache
 * logged in as an ACL user that may run only `redisAclRules()` (the line
 * docs/redis.md gives). Every feature that talks to Redis runs once: L2
 * reads and writes, single-flight locks, the invalidation bus, the rate
 * limiter's script; then Redis's ACL LOG must hold no refusal.
 */

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Is my card blocked?' }] }
const password = 'aicache-secret-1'
const skip = skipWithoutRedis() || !opensslInstalled()

describe.skipIf(skip)('Redis over TLS with an ACL user', () => {
  let fake: FakeUpstream
  let server: TlsRedisServer
  const closers: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    server = await startTlsRedisServer([`aicache on >${password} resetchannels ${redisAclRules()}`], 'admin-secret')
  }, 60_000)
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()))
    await server?.stop()
    await fake?.close()
  })

  async function instance(redis: AiCacheOptions['redis']) {
    // warmUp: its ranking's commands must be allowed too.
    const gateway = await startTestGateway({
      upstream: fake.url,
      memoryTier: false,
      rateLimit: { requestsPerMinute: 1_000 },
      redis,
      warmUp: { flushIntervalMs: 50 },
    })
    closers.push(gateway.close)
    await gateway.cache.ready()
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const status = async () => (await openai.chat.completions.create(question).withResponse()).response.headers.get('cache-status') ?? ''
    return { ...gateway, status }
  }

  it('serves L2 hits, single-flight and invalidations with nothing refused by the ACL', async () => {
    const { ca, cert, key } = server.certificates
    const warnings: string[] = []
    const options = {
      redis: `rediss://aicache:${password}@127.0.0.1:${server.port}`,
      tls: { ca, cert, key },
      timeoutMs: generousTimeoutMs,
      onWarning: (message: string) => warnings.push(message),
    }
    const one = await instance(options)
    const two = await instance(options)
    expect(one.cache.stats().redis?.connected).toBe(true)
    expect(await one.status()).toMatch(/fwd=uri-miss/)
    await eventually(async () => /detail=l2/.test(await two.status()), 5_000, 'an L2 hit on the second instance')
    // The bump travels over the bus (a script's PUBLISH, the other's SUBSCRIBE).
    await one.cache.invalidate()
    await eventually(async () => /fwd=uri-miss/.test(await two.status()), 5_000, 'the invalidation reaching the second instance')
    // The INFO read needs its permission too (and the check at start ran on it).
    await eventually(() => two.cache.stats().redis?.server, 5_000, 'INFO facts')
    // This server has no maxmemory: each instance said so once.
    expect(warnings).toEqual([expect.stringMatching(/no maxmemory/), expect.stringMatching(/no maxmemory/)])
    expect(one.cache.stats().redis?.errors).toBe(0)
    expect(two.cache.stats().redis?.errors).toBe(0)
    // The hot-key counts reached Redis (ZINCRBY and the rest), and the second instance read the ranking at start.
    await eventually(() => server.cli('keys', 'aicache:{hot:*').trim() !== '', 5_000, 'a hot-key ranking in Redis')
    // What the ACL refused, by command or key or channel ('object'). ioredis's
    // CLIENT SETINFO (Redis 7.2 and later) is left out of the rules on purpose: ioredis ignores its refusal.
    const lines = server.cli('acl', 'log', '100').split('\n')
    const refused = lines.flatMap((line, index) => (line === 'object' ? [lines[index + 1]!] : [])).filter((object) => !object.startsWith('client'))
    expect(refused).toEqual([])
  }, 60_000)

  it('is refused without the client certificate, and answers from the upstream instead (fail-open)', async () => {
    const { ca } = server.certificates
    const lone = await instance({
      redis: `rediss://aicache:${password}@127.0.0.1:${server.port}`,
      tls: { ca },
      timeoutMs: generousTimeoutMs,
      onStateChange: () => {},
    })
    expect(lone.cache.stats().redis?.connected).toBe(false)
    expect(await lone.status()).toMatch(/fwd=uri-miss/)
  })

  it('is refused with a wrong password', async () => {
    const { ca, cert, key } = server.certificates
    const wrong = await instance({ redis: `rediss://aicache:wrong@127.0.0.1:${server.port}`, tls: { ca, cert, key }, onStateChange: () => {} })
    expect(wrong.cache.stats().redis?.connected).toBe(false)
  })
})
