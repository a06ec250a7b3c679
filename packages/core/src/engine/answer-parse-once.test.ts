import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { chatCompletions } from '../formats/chat-completions.js'
import { embeddings } from '../formats/embeddings.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

/**
 * A whole (JSON) upstream answer is parsed once on a miss: the shape check,
 * the usage and model of the entry and the GenAI span's facts all read the
 * one parse; a hit replays the stored bytes and parses nothing.
 */
describe('a JSON miss', () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    vi.restoreAllMocks()
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(() => fake.close())

  const cases = [
    { format: chatCompletions, path: '/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'parse me once' }] } },
    // Cached as a whole answer; per input (the default), each vector is read from the one parse of the upstream's body.
    { format: embeddings, path: '/embeddings', body: { model: 'text-embedding-3-small', input: 'parse me once' }, options: { embeddings: false as const } },
  ]

  it.each(cases)('of $format.id parses the upstream body once, and its hit not at all', async ({ format, path, body, options }) => {
    const gateway = await startTestGateway({ upstream: fake.url, ...options })
    cleanups.push(gateway.close)
    const ask = () =>
      fetch(`${gateway.url}/v1${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
        body: JSON.stringify(body),
      })
    const parseAnswer = vi.spyOn(format, 'parseAnswer')
    const parse = vi.spyOn(JSON, 'parse')

    const miss = await ask()
    // Read as text: parsing it here would count among the calls below.
    const text = await miss.text()
    expect(miss.headers.get('cache-status')).toMatch(/fwd=uri-miss; fwd-status=200; stored/)
    expect(parseAnswer).toHaveBeenCalledTimes(1)
    // However it is parsed (by the format or by anything else), the answer's bytes are parsed once.
    expect(parse.mock.calls.filter(([source]) => source === text)).toHaveLength(1)

    const hit = await ask()
    expect(hit.headers.get('cache-status')).toMatch(/hit/)
    expect(await hit.text()).toBe(text)
    expect(parseAnswer).toHaveBeenCalledTimes(1)
    expect(parse.mock.calls.filter(([source]) => source === text)).toHaveLength(1)
  })
})
