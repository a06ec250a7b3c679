import Anthropic from '@anthropic-ai/sdk'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fakeChatAnswer, startFakeUpstream, type FakeUpstream } from './index.js'

let fake: FakeUpstream
let client: Anthropic

beforeAll(async () => {
  fake = await startFakeUpstream()
  // The SDK appends /v1/messages to the base URL.
  client = new Anthropic({ baseURL: fake.origin, apiKey: 'sk-ant-test', maxRetries: 0 })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

const weatherTool = {
  name: 'get_weather',
  description: 'Weather of a city',
  input_schema: { type: 'object' as const, properties: { query: { type: 'string' } }, required: ['query'] },
}

const longSystem = 'You are a caching assistant. '.repeat(40)

async function rawPost(path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const response = await fetch(`${fake.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  return { status: response.status, text: await response.text() }
}

function namedEvents(text: string): Array<{ event: string; data: Record<string, unknown> }> {
  return text
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => {
      const [eventLine, dataLine] = frame.split('\n')
      return { event: (eventLine ?? '').replace(/^event: /, ''), data: JSON.parse((dataLine ?? '').replace(/^data: /, '')) as Record<string, unknown> }
    })
}

const authHeaders = { 'x-api-key': 'sk-ant-test', 'anthropic-version': '2023-06-01' }

describe('Anthropic Messages, JSON', () => {
  it('answers with a message, end_turn and usage', async () => {
    const message = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'What is caching?' }] })
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', stop_reason: 'end_turn', stop_sequence: null })
    expect(message.id).toMatch(/^msg_/)
    expect(message.content).toHaveLength(1)
    const block = message.content[0]
    expect(block?.type === 'text' && block.text).toMatch(/^Echo: What is caching\?\. /)
    expect(message.usage.input_tokens).toBeGreaterThan(3)
    expect(message.usage.output_tokens).toBeGreaterThan(5)
    expect(message.usage.cache_creation_input_tokens).toBe(0)
    expect(message.usage.cache_read_input_tokens).toBe(0)
    expect(fake.calls[0]?.headers['anthropic-version']).toBeDefined()
  })

  it('stops at max_tokens and at a stop sequence', async () => {
    const cut = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 3, messages: [{ role: 'user', content: 'Tell me a long story' }] })
    expect(cut.stop_reason).toBe('max_tokens')
    expect(cut.content[0]).toEqual({ type: 'text', text: 'Echo: Tell' })
    expect(cut.usage.output_tokens).toBe(3)
    const stopped = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      stop_sequences: ['STOP'],
      messages: [{ role: 'user', content: 'Say it until STOP please' }],
    })
    expect(stopped).toMatchObject({ stop_reason: 'stop_sequence', stop_sequence: 'STOP', content: [{ type: 'text', text: 'Echo: Say it until ' }] })
  })

  it('uses a tool, then answers with text after the tool result', async () => {
    const message = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    })
    expect(message.stop_reason).toBe('tool_use')
    const toolUse = message.content[0]
    expect(toolUse).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { query: 'Weather in Paris?' } })
    if (toolUse?.type !== 'tool_use') throw new Error('expected tool_use')
    expect(toolUse.id).toMatch(/^toolu_/)
    const answer = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        { role: 'assistant', content: message.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'Sunny' }] },
      ],
    })
    expect(answer.stop_reason).toBe('end_turn')
    expect(answer.content[0]?.type).toBe('text')
  })

  it('reports cache creation, then cache reads, for a prompt with a cache_control breakpoint', async () => {
    const request = {
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      system: [{ type: 'text' as const, text: longSystem, cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'First question' }],
    }
    const first = await client.messages.create(request)
    expect(first.usage.cache_creation_input_tokens).toBeGreaterThan(100)
    expect(first.usage.cache_read_input_tokens).toBe(0)
    const second = await client.messages.create({ ...request, messages: [{ role: 'user', content: 'Second question' }] })
    expect(second.usage.cache_read_input_tokens).toBe(first.usage.cache_creation_input_tokens)
    expect(second.usage.cache_creation_input_tokens).toBe(0)
    expect(second.usage.input_tokens).toBeGreaterThan(0)
    expect(second.usage.input_tokens).toBeLessThan(20)
    // Another model has its own cache.
    const otherModel = await client.messages.create({ ...request, model: 'claude-haiku-4-5' })
    expect(otherModel.usage.cache_read_input_tokens).toBe(0)
    const counted = await client.messages.countTokens({ model: request.model, system: request.system, messages: request.messages })
    expect(counted.input_tokens).toBe(first.usage.input_tokens + (first.usage.cache_creation_input_tokens ?? 0))
  })

  it('returns a thinking block with a signature when thinking is enabled', async () => {
    const message = await client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 2000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'Think about caching' }],
    })
    expect(message.content.map((block) => block.type)).toEqual(['thinking', 'text'])
    const thinking = message.content[0]
    expect(thinking?.type === 'thinking' && thinking.signature).toMatch(/^sig_/)
  })
})

describe('Anthropic Messages, streaming', () => {
  it('sends the event sequence of the API, with a ping', async () => {
    const { status, text } = await rawPost(
      '/v1/messages',
      { model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Stream please' }] },
      authHeaders,
    )
    expect(status).toBe(200)
    expect(text).not.toContain('[DONE]')
    const events = namedEvents(text)
    expect(events.every(({ event, data }) => event === data['type'])).toBe(true)
    const types = events.map(({ event }) => event)
    const deltas = types.filter((type) => type === 'content_block_delta').length
    expect(deltas).toBeGreaterThan(2)
    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      ...Array.from({ length: deltas }, () => 'content_block_delta'),
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    expect(events[0]?.data['message']).toMatchObject({ content: [], stop_reason: null, usage: { output_tokens: 1 } })
    expect(events.at(-2)?.data).toMatchObject({ delta: { stop_reason: 'end_turn', stop_sequence: null } })
  })

  it('messages.stream() yields text deltas and a finalMessage() equal to the JSON answer', async () => {
    const request = { model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user' as const, content: 'Same answer twice' }] }
    const json = await client.messages.create(request)
    const stream = client.messages.stream(request)
    let text = ''
    stream.on('text', (delta) => {
      text += delta
    })
    const final = await stream.finalMessage()
    expect(final.content).toEqual(json.content)
    expect(text).toBe(json.content[0]?.type === 'text' ? json.content[0].text : '')
    // The chat answer helper reads `messages` and `max_tokens`, so it predicts Messages answers too.
    expect(text).toBe(fakeChatAnswer(request))
    expect(final.stop_reason).toBe('end_turn')
    expect(final.usage.output_tokens).toBe(json.usage.output_tokens)
    expect(final.usage.input_tokens).toBe(json.usage.input_tokens)
  })

  it('streams tool input as input_json_delta and thinking as thinking and signature deltas', async () => {
    const toolStream = client.messages.stream({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      tools: [weatherTool],
      messages: [{ role: 'user', content: 'Weather in Oslo?' }],
    })
    const partials: string[] = []
    toolStream.on('inputJson', (partial) => {
      partials.push(partial)
    })
    const toolMessage = await toolStream.finalMessage()
    expect(toolMessage.stop_reason).toBe('tool_use')
    expect(toolMessage.content[0]).toMatchObject({ type: 'tool_use', name: 'get_weather', input: { query: 'Weather in Oslo?' } })
    expect(partials.length).toBeGreaterThan(1)

    const { text } = await rawPost(
      '/v1/messages',
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 2000,
        stream: true,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'Think' }],
      },
      authHeaders,
    )
    const deltaTypes = namedEvents(text)
      .filter(({ event }) => event === 'content_block_delta')
      .map(({ data }) => (data['delta'] as Record<string, unknown>)['type'])
    expect(deltaTypes[0]).toBe('thinking_delta')
    expect(deltaTypes).toContain('signature_delta')
    expect(deltaTypes.at(-1)).toBe('text_delta')
    const thoughtful = await client.messages
      .stream({
        model: 'claude-sonnet-4-5',
        max_tokens: 2000,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'Think' }],
      })
      .finalMessage()
    expect(thoughtful.content[0]).toMatchObject({ type: 'thinking', signature: expect.stringMatching(/^sig_/) as unknown })
  })
})

describe('Anthropic Messages, errors', () => {
  it('requires an API key and anthropic-version, answering in Anthropic error shape', async () => {
    const body = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }
    const noVersion = await rawPost('/v1/messages', body, { 'x-api-key': 'sk-ant-test' })
    expect(noVersion.status).toBe(400)
    expect(JSON.parse(noVersion.text)).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } })
    const noKey = await rawPost('/v1/messages', body, { 'anthropic-version': '2023-06-01' })
    expect(noKey.status).toBe(401)
    expect(JSON.parse(noKey.text)).toMatchObject({ type: 'error', error: { type: 'authentication_error' } })
    const bearer = await rawPost('/v1/messages', body, { authorization: 'Bearer sk-ant-test', 'anthropic-version': '2023-06-01' })
    expect(bearer.status).toBe(200)
    const noMaxTokens = await rawPost('/v1/messages', { ...body, max_tokens: undefined }, authHeaders)
    expect(JSON.parse(noMaxTokens.text)).toMatchObject({ error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } })
  })

  it('renders status faults as Anthropic errors the SDK types, 529 as overloaded', async () => {
    const request = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user' as const, content: 'hi' }] }
    fake.inject({ status: 529 })
    const overloaded = await client.messages.create(request).catch((caught: unknown) => caught)
    expect(overloaded).toBeInstanceOf(Anthropic.APIError)
    expect(overloaded).toBeInstanceOf(Anthropic.InternalServerError)
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529)
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).error).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })
    fake.inject({ status: 429, headers: { 'retry-after': '1' } })
    const limited = await client.messages.create(request).catch((caught: unknown) => caught)
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError)
    expect((limited as InstanceType<typeof Anthropic.APIError>).requestID).toMatch(/^req_fake_/)
    fake.inject({ status: 500 })
    await expect(client.messages.create(request)).rejects.toMatchObject({ status: 500, error: { error: { type: 'api_error' } } })
  })

  it('fails a stream halfway with an error event the SDK throws', async () => {
    fake.inject({ streamError: 'event' })
    const { text } = await rawPost(
      '/v1/messages',
      { model: 'claude-sonnet-4-5', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'Fail' }] },
      authHeaders,
    )
    const events = namedEvents(text)
    expect(events.at(-1)).toEqual({ event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } })
    expect(events.map(({ event }) => event)).not.toContain('message_stop')

    fake.inject({ streamError: 'data' })
    const failing = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Fail' }] })
    await expect(failing.finalMessage()).rejects.toBeInstanceOf(Anthropic.APIError)
  })

  it('applies the other faults to Messages: a control-API fault by path, a stream cut midway', async () => {
    const control = await fetch(`${fake.origin}/__fake/fault`, { method: 'POST', body: JSON.stringify({ path: '/v1/messages', status: 529 }) })
    expect(control.status).toBe(200)
    const { status, text } = await rawPost(
      '/v1/messages',
      { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
      authHeaders,
    )
    expect(status).toBe(529)
    expect(JSON.parse(text)).toEqual({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })

    fake.inject({ drop: 'mid-body' })
    const cut = client.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'Cut me off' }] })
    await expect(cut.finalMessage()).rejects.toThrow()
  })
})
