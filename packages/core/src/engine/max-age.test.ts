import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Can I raise my card limit?' }] }

// Only the clock is faked (entries are dated with Date.now); sockets and timers are real.
describe("a request's Cache-Control: max-age (RFC 9111 section 5.2.1.1)", () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    vi.useRealTimers()
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(() => fake.close())

  async function ask(url: string, cacheControl?: string) {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const headers = cacheControl === undefined ? {} : { 'cache-control': cacheControl }
    const { response } = await openai.chat.completions.create(question, { headers }).withResponse()
    return { status: response.headers.get('cache-status') ?? '', age: Number(response.headers.get('age') ?? 0) }
  }

  it('accepts an entry no older than max-age, forwards as fwd=stale when it is older, and stores the new answer', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'))
    const gateway = await startTestGateway({ upstream: fake.url })
    cleanups.push(gateway.close)
    expect((await ask(gateway.url)).status).toMatch(/fwd=uri-miss;.*stored/)

    vi.setSystemTime(new Date('2026-01-01T00:00:30Z'))
    const young = await ask(gateway.url, 'max-age=60')
    expect(young.status).toMatch(/hit/)
    expect(young.age).toBe(30)
    expect(fake.callCount()).toBe(1)

    const old = await ask(gateway.url, 'max-age=10')
    expect(old.status).toMatch(/^aicache; fwd=stale;.*stored/)
    expect(fake.callCount()).toBe(2)

    // The stale entry was replaced: the next request finds a fresh one.
    const fresh = await ask(gateway.url, 'max-age=10')
    expect(fresh.status).toMatch(/hit/)
    expect(fresh.age).toBe(0)
    expect(fake.callCount()).toBe(2)
  })

  it('takes a max-age beyond 2^31 as 2^31 and answers from the cache', async () => {
    const gateway = await startTestGateway({ upstream: fake.url })
    cleanups.push(gateway.close)
    await ask(gateway.url)
    expect((await ask(gateway.url, 'max-age=99999999999999999999')).status).toMatch(/hit/)
    expect(fake.callCount()).toBe(1)
  })
})
