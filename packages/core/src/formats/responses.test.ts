import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { createAiCache } from '../index.js'
import type { AiCache } from '../engine/engine.js'

/**
 * The OpenAI Responses API through the gateway (proxy mode) and in client
 * mode (`new OpenAI({ fetch: cache.fetch })`), with openai 7 against the
 * fake upstream: JSON and streams, miss then hit, cross-serving, tool calls,
 * and the answers that are never kept.
 */

type Setup = { cache: AiCache; client(apiKey?: string): OpenAI; baseURL: string; fetch: typeof fetch; close(): Promise<void> }

const modes = [
  {
    mode: 'gateway',
    async start(fake: FakeUpstream): Promise<Setup> {
      const gateway = await startTestGateway({ upstream: fake.url })
      const baseURL = `${gateway.url}/v1`
      return { cache: gateway.cache, baseURL, fetch, client: (apiKey = 'sk-a') => new OpenAI({ baseURL, apiKey, maxRetries: 0 }), close: gateway.close }
    },
  },
  {
    mode: 'client mode',
    async start(fake: FakeUpstream): Promise<Setup> {
      const cache = createAiCache()
      return {
        cache,
        baseURL: fake.url,
        fetch: cache.fetch,
        client: (apiKey = 'sk-a') => new OpenAI({ baseURL: fake.url, apiKey, fetch: cache.fetch, maxRetries: 0 }),
        close: () => cache.close(),
      }
    },
  },
] as const

const model = 'gpt-4o-mini'
/** A response without the fields `responses.stream()` adds when it parses output (`output_parsed`, `parsed`). */
function unparsed(response: object): unknown {
  return JSON.parse(JSON.stringify(response, (key, value: unknown) => (key === 'output_parsed' || key === 'parsed' ? undefined : value)))
}

const lookupTool = {
  type: 'function' as const,
  name: 'lookup_order',
  description: 'Finds an order',
  parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false },
  strict: true,
}

describe.each(modes)('the Responses API, $mode', ({ start }) => {
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

  async function streamEvents(openai: OpenAI, params: Omit<OpenAI.Responses.ResponseCreateParamsStreaming, 'stream'>) {
    const { data, response } = await openai.responses.create({ ...params, stream: true }).withResponse()
    const events: OpenAI.Responses.ResponseStreamEvent[] = []
    for await (const event of data) events.push(event)
    return { events, status: response.headers.get('cache-status') }
  }

  it('answers a JSON request once upstream, then the same response as a hit', async () => {
    setup = await start(fake)
    const openai = setup.client()
    const params = { model, instructions: 'Be brief.', input: 'How do I activate my card?' }
    const first = await openai.responses.create(params).withResponse()
    const second = await openai.responses.create(params).withResponse()
    expect(first.response.headers.get('cache-status')).toMatch(/fwd=uri-miss.*stored/)
    expect(second.response.headers.get('cache-status')).toMatch(/hit/)
    expect(first.data.status).toBe('completed')
    expect(first.data.output_text.length).toBeGreaterThan(0)
    expect(second.data).toEqual(first.data)
    expect(fake.callCount('/v1/responses')).toBe(1)
    // Bookkeeping fields stay out of the key, as for chat completions.
    const tagged = await openai.responses.create({ ...params, metadata: { order: '42' }, user: 'u-1' }).withResponse()
    expect(tagged.response.headers.get('cache-status')).toMatch(/hit/)
    // Anything that can change the answer is part of it.
    await openai.responses.create({ ...params, instructions: 'Be thorough.' })
    expect(fake.callCount('/v1/responses')).toBe(2)
  })

  it('records a stream and replays the same named events, without [DONE]', async () => {
    setup = await start(fake)
    const openai = setup.client()
    const params = { model, input: [{ role: 'user' as const, content: 'Stream me an answer about cards' }] }
    const first = await streamEvents(openai, params)
    const second = await streamEvents(openai, params)
    expect(first.status).toMatch(/fwd=uri-miss/)
    expect(second.status).toMatch(/hit/)
    expect(first.events.at(-1)?.type).toBe('response.completed')
    expect(first.events.some((event) => event.type === 'response.output_text.delta')).toBe(true)
    expect(second.events).toEqual(first.events)
    expect(fake.callCount('/v1/responses')).toBe(1)

    const raw = await setup.fetch(`${setup.baseURL}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
      body: JSON.stringify({ ...params, stream: true }),
    })
    const text = await raw.text()
    expect(raw.headers.get('cache-status')).toMatch(/hit/)
    expect(text).not.toContain('[DONE]')
    expect(text).toContain('event: response.completed\ndata: {"type":"response.completed"')

    const streamed = await openai.responses.stream(params).finalResponse()
    const again = await openai.responses.stream(params).finalResponse()
    expect(again).toEqual(streamed)
    expect(fake.callCount('/v1/responses')).toBe(1)
  })

  it('answers a JSON request from a recorded stream, and a stream request from a stored JSON answer', async () => {
    setup = await start(fake)
    const openai = setup.client()
    const streamFirst = { model, input: 'A stream first, then JSON' }
    const streamed = await openai.responses.stream(streamFirst).finalResponse()
    const json = await openai.responses.create(streamFirst).withResponse()
    expect(json.response.headers.get('cache-status')).toMatch(/hit/)
    expect(unparsed(json.data)).toEqual(unparsed(streamed))

    const jsonFirst = { model, input: 'JSON first, then a stream' }
    const answer = await openai.responses.create(jsonFirst)
    const { events, status } = await streamEvents(openai, jsonFirst)
    expect(status).toMatch(/hit/)
    expect(events.map((event) => event.type)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ])
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index))
    const rebuilt = await openai.responses.stream(jsonFirst).finalResponse()
    expect(unparsed(rebuilt)).toEqual(unparsed(answer))
    expect(fake.callCount('/v1/responses')).toBe(2)
  })

  it('makes one upstream call for identical requests in flight together, streamed and JSON', async () => {
    setup = await start(fake)
    fake.setChunkDelay(2)
    const openai = setup.client()
    const params = { model, input: 'Three at once' }
    const [a, b, json] = await Promise.all([streamEvents(openai, params), streamEvents(openai, params), openai.responses.create(params)])
    fake.setChunkDelay(0)
    expect(b?.events).toEqual(a?.events)
    const completed = a?.events.at(-1)
    expect(completed?.type).toBe('response.completed')
    expect(unparsed(json)).toEqual(unparsed(completed?.type === 'response.completed' ? { ...completed.response, output_text: json.output_text } : {}))
    expect(fake.callCount('/v1/responses')).toBe(1)
  })

  it('caches a tool call, JSON and streamed', async () => {
    setup = await start(fake)
    const openai = setup.client()
    const params = { model, input: 'Where is order 42?', tools: [lookupTool], tool_choice: { type: 'function' as const, name: 'lookup_order' } }
    const first = await openai.responses.create(params)
    const second = await openai.responses.create(params)
    const call = first.output.find((item) => item.type === 'function_call')
    expect(call).toMatchObject({ type: 'function_call', name: 'lookup_order' })
    expect(second).toEqual(first)
    const streamed = await streamEvents(openai, params)
    expect(streamed.status).toMatch(/hit/)
    expect(streamed.events.some((event) => event.type === 'response.function_call_arguments.delta')).toBe(true)
    const stream = await streamEvents(openai, { ...params, input: 'Where is order 43?' })
    const replay = await streamEvents(openai, { ...params, input: 'Where is order 43?' })
    expect(replay.status).toMatch(/hit/)
    expect(replay.events).toEqual(stream.events)
    expect(fake.callCount('/v1/responses')).toBe(2)
  })

  it('never stores a background, an incomplete or a failed answer', async () => {
    setup = await start(fake)
    const openai = setup.client()
    const background = { model, input: 'Work on this in the background', background: true }
    const queued = await openai.responses.create(background).withResponse()
    const queuedAgain = await openai.responses.create(background).withResponse()
    expect(queued.data.status).toBe('queued')
    expect(queued.response.headers.get('cache-status')).toMatch(/fwd=request/)
    expect(queued.response.headers.get('cache-status')).not.toMatch(/stored/)
    expect(queuedAgain.data.id).not.toBe(queued.data.id)

    const cut = { model, input: 'A long question whose answer is cut short', max_output_tokens: 3 }
    expect((await openai.responses.create(cut)).status).toBe('incomplete')
    expect((await openai.responses.create(cut)).status).toBe('incomplete')
    const cutStream = await streamEvents(openai, cut)
    expect(cutStream.events.at(-1)?.type).toBe('response.incomplete')
    await streamEvents(openai, cut)
    expect(fake.callCount('/v1/responses')).toBe(6)

    // A client error: the engine retries 5xx answers itself.
    fake.inject({ status: 400 })
    const failing = { model, input: 'The upstream fails this one' }
    await expect(openai.responses.create(failing)).rejects.toThrow()
    const recovered = await openai.responses.create(failing).withResponse()
    expect(recovered.response.headers.get('cache-status')).toMatch(/fwd=uri-miss.*stored/)

    fake.inject({ streamError: 'data' })
    const failedStream = { model, input: 'This stream fails half way', stream: true }
    const ask = () =>
      setup.fetch(`${setup.baseURL}/responses`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
        body: JSON.stringify(failedStream),
      })
    expect(await (await ask()).text()).toContain('event: response.failed')
    fake.inject({ drop: 'before-done' })
    expect(await (await ask()).text()).not.toContain('response.completed')
    const complete = await ask()
    expect(await complete.text()).toContain('event: response.completed')
    expect(complete.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(fake.callCount('/v1/responses')).toBe(11)
    expect(setup.cache.stats().memory.entries).toBe(2)
  })

  it('keeps answers made with store: false apart, so a hit never hands out an id that cannot be continued', async () => {
    setup = await start(fake)
    const openai = setup.client()
    const params = { model, input: 'Remember this conversation' }
    const unstored = await openai.responses.create({ ...params, store: false })
    expect((await openai.responses.create({ ...params, store: false })).id).toBe(unstored.id)
    const stored = await openai.responses.create({ ...params, store: true }).withResponse()
    expect(stored.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    // Stored is the API's default, so leaving `store` out shares the stored answer.
    expect((await openai.responses.create(params)).id).toBe(stored.data.id)
    const followUp = await openai.responses.create({ model, input: 'And then?', previous_response_id: stored.data.id })
    expect(followUp.status).toBe('completed')
    expect(fake.callCount('/v1/responses')).toBe(3)
  })

  it('never shares an answer between two API keys', async () => {
    setup = await start(fake)
    const params = { model, input: 'Whose answer is this?' }
    const first = await setup.client('sk-a').responses.create(params).withResponse()
    const other = await setup.client('sk-b').responses.create(params).withResponse()
    expect(first.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(other.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(fake.callCount('/v1/responses')).toBe(2)
  })

  it('refuses a malformed request with an OpenAI-shaped error naming the field', async () => {
    setup = await start(fake)
    const response = await setup.fetch(`${setup.baseURL}/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
      body: JSON.stringify({ model, input: 42 }),
    })
    expect(response.status).toBe(400)
    const body = (await response.json()) as { error: { param: string; type: string } }
    expect(body.error).toMatchObject({ param: 'input', type: 'invalid_request_error' })
    expect(fake.callCount('/v1/responses')).toBe(0)
  })

  it("passes a stored response's routes through untouched", async () => {
    setup = await start(fake)
    const openai = setup.client()
    const created = await openai.responses.create({ model, input: 'Keep this one' })
    expect(await openai.responses.retrieve(created.id)).toEqual(created)
    expect((await openai.responses.retrieve(created.id)).id).toBe(created.id)
    expect(fake.callCount(`/v1/responses/${created.id}`)).toBe(2)
    const items = await openai.responses.inputItems.list(created.id)
    expect(items.data.length).toBe(1)
  })
})
