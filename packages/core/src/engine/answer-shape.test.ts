import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'

/**
 * A 2xx answer is stored only when it has the shape of its operation:
 * `choices` (non-empty) for chat and text completions, `data` for
 * embeddings. A provider that answers 200 with anything else (a proxy's
 * status page, an empty body, a truncated object) is passed on, never kept.
 */
describe('2xx answers without the expected shape', () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(() => fake.close())

  const cases = [
    {
      label: 'a chat completion without choices',
      path: '/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'no choices' }] },
      answer: { id: 'chatcmpl-x', object: 'chat.completion' },
    },
    {
      label: 'a chat completion with empty choices',
      path: '/chat/completions',
      body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'empty choices' }] },
      answer: { id: 'chatcmpl-y', object: 'chat.completion', choices: [] },
    },
    {
      label: 'a text completion without choices',
      path: '/completions',
      body: { model: 'gpt-3.5-turbo-instruct', prompt: 'no choices' },
      answer: { id: 'cmpl-x', object: 'text_completion' },
    },
    {
      label: 'an embeddings list without data',
      path: '/embeddings',
      body: { model: 'text-embedding-3-small', input: 'no data' },
      answer: { object: 'list', model: 'text-embedding-3-small' },
    },
  ]

  it.each(cases)('$label is passed on and the next identical request goes upstream again', async ({ path, body, answer }) => {
    const gateway = await startTestGateway({ upstream: fake.url })
    cleanups.push(gateway.close)
    const ask = () =>
      fetch(`${gateway.url}/v1${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
        body: JSON.stringify(body),
      })
    fake.inject({ status: 200, body: answer })
    const odd = await ask()
    expect(odd.status).toBe(200)
    expect(await odd.json()).toEqual(answer)
    expect(odd.headers.get('cache-status')).not.toMatch(/stored/)
    const next = await ask()
    expect(next.headers.get('cache-status')).toMatch(/fwd=uri-miss; fwd-status=200; stored/)
    expect(gateway.cache.stats().memory.entries).toBe(1)
    expect(fake.callCount(`/v1${path}`)).toBe(2)
  })
})
