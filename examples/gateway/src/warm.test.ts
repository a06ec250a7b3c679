import { execFileSync } from 'node:child_process'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { type AiCache, type AiCacheOptions, createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

/**
 * Warm-up through the gateway: `GET /aicache/ready` for probes, and
 * `POST /aicache/warm` (admin token) streaming its progress as NDJSON.
 * Real Redis, the fake upstream, the official client.
 */

const adminToken = 'warm-admin'
const question = (content: string) => ({ model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }] })
const warmLine = (content: string) => JSON.stringify({ format: 'chat', body: question(content), headers: { authorization: 'Bearer sk-a' } })

interface Gateway {
  url: string
  engine: AiCache
  ask(content: string): Promise<string>
  close(): Promise<void>
}

describe.skipIf(skipWithoutRedis())('warm-up through the gateway', () => {
  let fake: FakeUpstream
  let redis: RedisServer
  const gateways: Gateway[] = []
  beforeEach(async () => {
    fake = await startFakeUpstream()
    redis = await startRedisServer()
  })
  afterEach(async () => {
    for (const gateway of gateways.splice(0)) await gateway.close()
    await redis.stop()
    await fake.close()
  })

  async function start(options: AiCacheOptions = {}): Promise<Gateway> {
    // A generous Redis deadline: what is tested is warming, not deadlines on a loaded machine.
    const engine = createAiCache({ upstream: fake.url, redis: { redis: redis.url, timeoutMs: 2_000 }, ...options })
    const server: Server = createGatewayApp(engine, adminToken).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    let closed = false
    const gateway: Gateway = {
      url,
      engine,
      ask: async (content) => (await openai.chat.completions.create(question(content)).withResponse()).response.headers.get('cache-status') ?? '',
      async close() {
        if (closed) return
        closed = true
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
        await engine.close()
      },
    }
    gateways.push(gateway)
    return gateway
  }

  function warm(url: string, body: string, token = adminToken): Promise<Response> {
    return fetch(`${url}/aicache/warm`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' }, body })
  }

  async function ndjson(response: Response): Promise<Array<Record<string, unknown>>> {
    return (await response.text())
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  }

  it('answers GET /aicache/ready with 503 until the memory tier is warm, then 200; the first requests are memory hits', async () => {
    const one = await start({ warmUp: { flushIntervalMs: 50 } })
    await one.engine.ready()
    const topics = ['parcels', 'refunds', 'invoices']
    for (const topic of topics) for (let time = 0; time < 2; time++) await one.ask(topic)
    // Closing flushes the counts to the ranking in Redis.
    await one.close()

    // Redis holds every command for a moment: the new instance cannot be ready meanwhile.
    execFileSync('redis-cli', ['-u', redis.url, 'CLIENT', 'PAUSE', '400', 'ALL'])
    const two = await start({ warmUp: true })
    const early = await fetch(`${two.url}/aicache/ready`)
    expect(early.status).toBe(503)
    expect(await early.json()).toEqual({ ready: false })

    let ready: Response
    for (;;) {
      ready = await fetch(`${two.url}/aicache/ready`)
      if (ready.status !== 503) break
      await sleep(20)
    }
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true, warmUp: { loaded: topics.length } })
    for (const topic of topics) expect(await two.ask(topic)).toMatch(/hit.*detail=l1/)
    expect(fake.callCount()).toBe(topics.length)
  })

  it('answers GET /aicache/ready without a token, and 200 at once without warm-up', async () => {
    const gateway = await start()
    await gateway.engine.ready()
    const response = await fetch(`${gateway.url}/aicache/ready`)
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.json()).toEqual({ ready: true })
  })

  it('POST /aicache/warm with a JSONL file of 200 requests stores 200 answers: afterwards all 200 are hits, here and on another instance', async () => {
    const one = await start()
    await one.engine.ready()
    const contents = Array.from({ length: 200 }, (_unused, index) => `Question number ${index}`)
    const response = await warm(one.url, contents.map(warmLine).join('\n') + '\n')
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toMatch(/application\/x-ndjson/)
    const lines = await ndjson(response)
    expect(lines[0]).toEqual({ type: 'start', total: 200 })
    const results = lines.filter((line) => line['type'] === 'result')
    expect(results).toHaveLength(200)
    expect(new Set(results.map((result) => result['line']))).toEqual(new Set(contents.map((_content, index) => index + 1)))
    expect(results.every((result) => result['outcome'] === 'stored')).toBe(true)
    expect(lines.at(-1)).toMatchObject({ type: 'done', total: 200, stored: 200, cached: 0, failed: 0, invalid: 0 })
    expect(fake.callCount()).toBe(200)

    const two = await start()
    await two.engine.ready()
    for (const content of contents) expect(await one.ask(content)).toMatch(/hit.*detail=l1/)
    for (const content of contents) expect(await two.ask(content)).toMatch(/hit.*detail=l2/)
    expect(fake.callCount()).toBe(200)

    // Warming again finds them all cached.
    expect((await ndjson(await warm(one.url, contents.map(warmLine).join('\n')))).at(-1)).toMatchObject({ stored: 0, cached: 200 })
  })

  it('counts bad lines with their line number and reason, and warms the rest', async () => {
    const gateway = await start()
    const body = [warmLine('first'), '{"format": "chat", "body": ', '', JSON.stringify({ format: 'chat' }), warmLine('second'), 'not json at all'].join('\r\n')
    const lines = await ndjson(await warm(gateway.url, body))
    expect(lines[0]).toEqual({ type: 'start', total: 5 })
    const invalid = lines.filter((line) => line['outcome'] === 'invalid').sort((first, second) => Number(first['line']) - Number(second['line']))
    expect(invalid).toEqual([
      { type: 'result', line: 2, outcome: 'invalid', reason: expect.stringMatching(/^not JSON/) },
      { type: 'result', line: 4, outcome: 'invalid', reason: expect.stringMatching(/'body'/) },
      { type: 'result', line: 6, outcome: 'invalid', reason: expect.stringMatching(/^not JSON/) },
    ])
    expect(lines.at(-1)).toMatchObject({ type: 'done', total: 5, stored: 2, invalid: 3 })
  })

  it('takes a JSON array too, reporting items by position', async () => {
    const gateway = await start()
    const body = JSON.stringify([JSON.parse(warmLine('first')) as object, { path: '/v1/chat/completions', body: question('second') }, 42])
    const lines = await ndjson(await warm(gateway.url, body))
    expect(lines.filter((line) => line['type'] === 'result').map((line) => [line['item'], line['outcome']])).toEqual(
      expect.arrayContaining([
        [0, 'stored'],
        [1, 'stored'],
        [2, 'invalid'],
      ]),
    )
    expect(lines.at(-1)).toMatchObject({ total: 3, stored: 2, invalid: 1 })
  })

  it('needs the admin token, and warms nothing without it', async () => {
    const gateway = await start()
    for (const token of ['', 'wrong-token']) {
      const response = await warm(gateway.url, warmLine('first'), token)
      expect(response.status).toBe(401)
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_admin_token' } })
    }
    expect(fake.callCount()).toBe(0)
  })

  it.each([
    ['an empty body', '  \n', /empty/],
    ['a broken JSON array', '[{"format": "chat"', /not valid JSON/],
  ])('refuses %s with a 400', async (_name, body, message) => {
    const gateway = await start()
    const response = await warm(gateway.url, body)
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: { code: 'invalid_json', message: expect.stringMatching(message) } })
  })

  it('refuses a bad concurrency with a 400', async () => {
    const gateway = await start()
    const response = await fetch(`${gateway.url}/aicache/warm?concurrency=0`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}` },
      body: warmLine('first'),
    })
    expect(response.status).toBe(400)
    expect(fake.callCount()).toBe(0)
  })
})
