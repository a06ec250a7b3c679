import Anthropic from '@anthropic-ai/sdk'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { createAiCache } from '../index.js'
import type { AiCache } from '../engine/engine.js'

/**
 * Anthropic Messages through the gateway (proxy mode, `new Anthropic({ baseURL })`)
 * and in client mode (`new Anthropic({ fetch: cache.fetch })`), with
 * @anthropic-ai/sdk against the fake upstream: JSON and streams, miss then
 * hit, cross-serving, tool use, thinking, the answers never kept, and keys
 * apart per API key and per `anthropic-version`.
 */

type Setup = {
  cache: AiCache
  client(apiKey?: string, headers?: Record<string, string>): Anthropic
  origin: string
  fetch: typeof fetch
  close(): Promise<void>
}

const modes = [
  {
    mode: 'gateway',
    async start(fake: FakeUpstream): Promise<Setup> {
      const gateway = await startTestGateway({ upstream: { openai: fake.url, anthropic: fake.url } })
      return {
        cache: gateway.cache,
        origin: gateway.url,
        fetch,
        client: (apiKey = 'sk-ant-a', headers = {}) => new Anthropic({ baseURL: gateway.url, apiKey, maxRetries: 0, defaultHeaders: headers }),
        close: gateway.close,
      }
    },
  },
  {
    mode: 'client mode',
    async start(fake: FakeUpstream): Promise<Setup> {
      const cache = createAiCache()
      return {
        cache,
        origin: fake.origin,
        fetch: cache.fetch,
        client: (apiKey = 'sk-ant-a', headers = {}) =>
          new Anthropic({ baseURL: fake.origin, apiKey, fetch: cache.fetch, maxRetries: 0, defaultHeaders: headers }),
        close: () => cache.close(),
      }
    },
  },
] as const

const model = 'claude-sonnet-4-5'
// What @anthropic-ai/sdk 1.17 sends with `apiKey: 'sk-ant-a'`, so a raw request finds the SDK's entries.
const headers = { 'content-type': 'application/json', authorization: 'Bearer sk-ant-a', 'anthropic-version': '2026-10-21' }

/** A message without the field `messages.stream()` adds when it parses output. */
function unparsed(message: object): unknown {
  return JSON.parse(JSON.stringify(message, (key, value: unknown) => (key === 'parsed_output' ? undefined : value)))
}

const lookupTool = {
  name: 'lookup_order',
  description: 'Finds an order',
  input_schema: { type: 'object' as const, properties: { query: { type: 'string' } }, required: ['query'] },
}

describe.each(modes)('Anthropic Messages, $mode', ({ start }) => {
  let fake: FakeUpstream
  let setup: Setup
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await setup?.close()
    fake.reset()
  })
  afterAll(() => fake.close())

  async function streamEvents(anthropic: Anthropic, params: Omit<Anthropic.MessageCreateParamsStreaming, 'stream'>) {
    const { data, response } = await anthropic.messages.create({ ...params, stream: true }).withResponse()
    const events: Anthropic.RawMessageStreamEvent[] = []
    for await (const event of data) events.push(event)
    return { events, status: response.headers.get('cache-status') }
  }

  function post(body: unknown, extra: Record<string, string> = {}) {
    return setup.fetch(`${setup.origin}/v1/messages`, { method: 'POST', headers: { ...headers, ...extra }, body: JSON.stringify(body) })
  }

  it('answers messages.create once upstream, then the same message as a hit', async () => {
    setup = await start(fake)
    const anthropic = setup.client()
    const params = { model, max_tokens: 200, system: 'Be brief.', messages: [{ role: 'user' as const, content: 'How do I activate my card?' }] }
    const first = await anthropic.messages.create(params).withResponse()
    const second = await anthropic.messages.create(params).withResponse()
    expect(first.response.headers.get('cache-status')).toMatch(/fwd=uri-miss.*stored/)
    expect(second.response.headers.get('cache-status')).toMatch(/hit/)
    expect(first.data.stop_reason).toBe('end_turn')
    expect(second.data).toEqual(first.data)
    expect(fake.callCount('/v1/messages')).toBe(1)
    // metadata.user_id is bookkeeping, as chat's `user` is.
    const tagged = await anthropic.messages.create({ ...params, metadata: { user_id: 'u-1' } }).withResponse()
    expect(tagged.response.headers.get('cache-status')).toMatch(/hit/)
    // The system prompt is part of the key.
    await anthropic.messages.create({ ...params, system: 'Be thorough.' })
    expect(fake.callCount('/v1/messages')).toBe(2)
  })

  it('records a stream and replays the same events; messages.stream() finalMessage() is equal on the hit', async () => {
    setup = await start(fake)
    const anthropic = setup.client()
    const params = { model, max_tokens: 200, messages: [{ role: 'user' as const, content: 'Stream me an answer about cards' }] }
    const first = await streamEvents(anthropic, params)
    const second = await streamEvents(anthropic, params)
    expect(first.status).toMatch(/fwd=uri-miss/)
    expect(second.status).toMatch(/hit/)
    expect(first.events.at(-1)?.type).toBe('message_stop')
    expect(first.events.filter((event) => event.type === 'content_block_delta').length).toBeGreaterThan(2)
    expect(second.events).toEqual(first.events)
    expect(fake.callCount('/v1/messages')).toBe(1)

    const raw = await post({ ...params, stream: true })
    const text = await raw.text()
    expect(raw.headers.get('cache-status')).toMatch(/hit/)
    expect(text).not.toContain('[DONE]')
    expect(text).toContain('event: message_stop\ndata: {"type":"message_stop"}')

    const streamed = anthropic.messages.stream({ ...params, messages: [{ role: 'user', content: 'A streamed final message' }] })
    const streamedEvents: string[] = []
    streamed.on('streamEvent', (event) => streamedEvents.push(JSON.stringify(event)))
    const final = await streamed.finalMessage()
    const replayed = anthropic.messages.stream({ ...params, messages: [{ role: 'user', content: 'A streamed final message' }] })
    const replayedEvents: string[] = []
    replayed.on('streamEvent', (event) => replayedEvents.push(JSON.stringify(event)))
    expect(await replayed.finalMessage()).toEqual(final)
    expect(final.content).toEqual([{ type: 'text', text: expect.stringMatching(/^Echo: A streamed final message/) }])
    expect(replayedEvents).toEqual(streamedEvents)
    expect(fake.callCount('/v1/messages')).toBe(2)
  })

  it('answers a JSON request from a recorded stream, and a stream request from a stored JSON message', async () => {
    setup = await start(fake)
    const anthropic = setup.client()
    const streamFirst = { model, max_tokens: 200, messages: [{ role: 'user' as const, content: 'A stream first, then JSON' }] }
    const streamed = await anthropic.messages.stream(streamFirst).finalMessage()
    const json = await anthropic.messages.create(streamFirst).withResponse()
    expect(json.response.headers.get('cache-status')).toMatch(/hit/)
    expect(unparsed(json.data)).toEqual(unparsed(streamed))

    const jsonFirst = { model, max_tokens: 200, messages: [{ role: 'user' as const, content: 'JSON first, then a stream' }] }
    const answer = await anthropic.messages.create(jsonFirst)
    const { events, status } = await streamEvents(anthropic, jsonFirst)
    expect(status).toMatch(/hit/)
    expect(events.map((event) => event.type)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    expect(unparsed(await anthropic.messages.stream(jsonFirst).finalMessage())).toEqual(unparsed(answer))
    expect(fake.callCount('/v1/messages')).toBe(2)
  })

  it('caches tool use and thinking, JSON and streamed (input_json_delta, thinking and signature deltas)', async () => {
    setup = await start(fake)
    const anthropic = setup.client()
    const params = {
      model,
      max_tokens: 400,
      tools: [lookupTool],
      tool_choice: { type: 'tool' as const, name: 'lookup_order' },
      messages: [{ role: 'user' as const, content: 'Where is order 42?' }],
    }
    const first = await anthropic.messages.create(params)
    expect(first.stop_reason).toBe('tool_use')
    expect(first.content[0]).toMatchObject({ type: 'tool_use', name: 'lookup_order', input: { query: 'Where is order 42?' } })
    const asStream = anthropic.messages.stream(params)
    const toolEvents: string[] = []
    asStream.on('streamEvent', (event) => toolEvents.push(event.type === 'content_block_delta' ? event.delta.type : event.type))
    expect(unparsed(await asStream.finalMessage())).toEqual(unparsed(first))
    expect(toolEvents).toContain('input_json_delta')

    const recorded = { ...params, messages: [{ role: 'user' as const, content: 'Where is order 43?' }] }
    const stream = await streamEvents(anthropic, recorded)
    expect(stream.events.filter((event) => event.type === 'content_block_delta' && event.delta.type === 'input_json_delta').length).toBeGreaterThan(1)
    expect(unparsed(await anthropic.messages.create(recorded))).toEqual(unparsed(await anthropic.messages.stream(recorded).finalMessage()))

    const thinking = {
      model,
      max_tokens: 400,
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
      messages: [{ role: 'user' as const, content: 'Think first' }],
    }
    const thought = await streamEvents(anthropic, thinking)
    const deltas = thought.events.flatMap((event) => (event.type === 'content_block_delta' ? [event.delta.type] : []))
    expect(deltas).toContain('thinking_delta')
    expect(deltas).toContain('signature_delta')
    const whole = await anthropic.messages.create(thinking).withResponse()
    expect(whole.response.headers.get('cache-status')).toMatch(/hit/)
    expect(whole.data.content[0]).toMatchObject({ type: 'thinking', signature: expect.stringMatching(/^sig_fake_/) })
    expect(fake.callCount('/v1/messages')).toBe(3)
  })

  it('passes an upstream error through in its own shape and never stores it; never stores a cut or failed stream', async () => {
    setup = await start(fake)
    const anthropic = setup.client()
    const params = { model, max_tokens: 200, messages: [{ role: 'user' as const, content: 'The upstream refuses this one' }] }
    fake.inject({ status: 400 })
    const error = await anthropic.messages.create(params).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(Anthropic.BadRequestError)
    expect((error as InstanceType<typeof Anthropic.BadRequestError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } })
    const recovered = await anthropic.messages.create(params).withResponse()
    expect(recovered.response.headers.get('cache-status')).toMatch(/fwd=uri-miss.*stored/)

    const streamed = { model, max_tokens: 200, stream: true, messages: [{ role: 'user', content: 'This stream fails half way' }] }
    fake.inject({ streamError: 'event' })
    expect(await (await post(streamed)).text()).toContain('event: error')
    fake.inject({ drop: 'before-done' })
    expect(await (await post(streamed)).text()).not.toContain('message_stop')
    const complete = await post(streamed)
    expect(await complete.text()).toContain('event: message_stop')
    expect(complete.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect((await post(streamed)).headers.get('cache-status')).toMatch(/hit/)
    expect(fake.callCount('/v1/messages')).toBe(5)
    expect(setup.cache.stats().memory.entries).toBe(2)
  })

  it('never shares an answer between two API keys, nor between two anthropic-version or anthropic-beta values', async () => {
    setup = await start(fake)
    const params = { model, max_tokens: 200, messages: [{ role: 'user' as const, content: 'Whose answer is this?' }] }
    const first = await setup.client('sk-ant-a').messages.create(params).withResponse()
    const other = await setup.client('sk-ant-b').messages.create(params).withResponse()
    expect(first.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(other.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(fake.callCount('/v1/messages')).toBe(2)

    // Anthropic's own key header scopes as Authorization does.
    const xApiKey = (key: string) => ({ authorization: '', 'x-api-key': key })
    const body = { ...params, messages: [{ role: 'user', content: 'Versioned' }] }
    expect((await post(body, xApiKey('sk-ant-c'))).headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect((await post(body, xApiKey('sk-ant-c'))).headers.get('cache-status')).toMatch(/hit/)
    expect((await post(body, xApiKey('sk-ant-d'))).headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    const versioned = { ...xApiKey('sk-ant-c'), 'anthropic-version': '2023-06-01' }
    expect((await post(body, versioned)).headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect((await post(body, versioned)).headers.get('cache-status')).toMatch(/hit/)
    expect((await post(body, { ...versioned, 'anthropic-beta': 'token-efficient-tools-2025-02-19' })).headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(fake.callCount('/v1/messages')).toBe(6)
  })

  it("refuses a malformed request with Anthropic's error shape, and passes count_tokens through uncached", async () => {
    setup = await start(fake)
    const refused = await post({ model, max_tokens: 10, messages: 'not a list' })
    expect(refused.status).toBe(400)
    expect(await refused.json()).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: expect.stringContaining("'messages'") } })
    expect(fake.callCount('/v1/messages')).toBe(0)

    const anthropic = setup.client()
    const count = { model, messages: [{ role: 'user' as const, content: 'Count me' }] }
    const counted = await anthropic.messages.countTokens(count)
    expect(counted.input_tokens).toBeGreaterThan(0)
    expect(await anthropic.messages.countTokens(count)).toEqual(counted)
    expect(fake.callCount('/v1/messages/count_tokens')).toBe(2)
    expect(fake.callCount('/v1/messages')).toBe(0)
  })
})

describe('Anthropic Messages, errors aicache makes itself', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterAll(() => fake.close())

  // 60 s: the first rate-limited request starts the tokenizer worker, which takes most of 20 s on a loaded 2-core machine.
  it("answers a rate limit with Anthropic's 429 rate_limit_error, which the SDK reads as a RateLimitError", { timeout: 60_000 }, async () => {
    const gateway = await startTestGateway({ upstream: fake.url, rateLimit: { requestsPerMinute: 1 } })
    try {
      const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-ant-a', maxRetries: 0 })
      const params = { model, max_tokens: 200, messages: [{ role: 'user' as const, content: 'Limited' }] }
      await anthropic.messages.create(params)
      const error = await anthropic.messages.create({ ...params, system: 'again' }).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(Anthropic.RateLimitError)
      expect((error as InstanceType<typeof Anthropic.RateLimitError>).error).toEqual({
        type: 'error',
        error: { type: 'rate_limit_error', message: expect.any(String) },
      })
      // OpenAI routes keep OpenAI's shape.
      const chat = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-ant-a' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Limited' }] }),
      })
      expect(chat.status).toBe(429)
      expect(((await chat.json()) as { error: { code: string } }).error.code).toBe('rate_limited')
    } finally {
      await gateway.close()
    }
  })

  it("sends upstreamApiKey to Anthropic's upstream as x-api-key, in place of the caller's credential", async () => {
    const gateway = await startTestGateway({ upstream: fake.url, upstreamApiKey: 'sk-gateway-key' })
    try {
      fake.reset()
      const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-ant-caller', maxRetries: 0 })
      await anthropic.messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'Whose key?' }] })
      await anthropic.messages.countTokens({ model, messages: [{ role: 'user', content: 'Whose key?' }] })
      for (const call of fake.calls) {
        expect(call.headers['x-api-key']).toBe('sk-gateway-key')
        expect(call.headers['authorization']).toBeUndefined()
      }
      expect(fake.calls.map((call) => call.path)).toEqual(['/v1/messages', '/v1/messages/count_tokens'])
    } finally {
      await gateway.close()
    }
  })

  it('answers an unreachable upstream with api_error and an open breaker with 529 overloaded_error', async () => {
    const gateway = await startTestGateway({
      upstream: { anthropic: 'http://127.0.0.1:9' },
      retry: false,
      circuitBreaker: { consecutiveFailures: 1, coolDownMs: 60_000 },
    })
    try {
      const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-ant-a', maxRetries: 0 })
      const params = { model, max_tokens: 200, messages: [{ role: 'user' as const, content: 'Anyone there?' }] }
      const unreachable = await anthropic.messages.create(params).catch((caught: unknown) => caught)
      expect(unreachable).toBeInstanceOf(Anthropic.InternalServerError)
      expect((unreachable as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'api_error' } })
      const open = await anthropic.messages.create(params).catch((caught: unknown) => caught)
      expect((open as InstanceType<typeof Anthropic.APIError>).status).toBe(529)
      expect((open as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } })
      // No OpenAI upstream configured: its routes are the app's.
      const chat = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      expect(chat.status).toBe(404)
    } finally {
      await gateway.close()
    }
  })
})
