import OpenAI from 'openai7'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { fakeChatAnswer, startFakeUpstream, type FakeUpstream } from './index.js'

let fake: FakeUpstream
let client: OpenAI

beforeAll(async () => {
  fake = await startFakeUpstream()
  client = new OpenAI({ baseURL: fake.url, apiKey: 'sk-test', maxRetries: 0 })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

const weatherTool = {
  type: 'function',
  name: 'get_weather',
  parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'], additionalProperties: false },
  strict: true,
} as const

interface RawEvent {
  event: string
  data: Record<string, unknown>
}

/** Posts to the fake and splits the SSE body into its named events. */
async function rawStream(body: Record<string, unknown>): Promise<{ text: string; events: RawEvent[] }> {
  const response = await fetch(`${fake.url}/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
    body: JSON.stringify({ ...body, stream: true }),
  })
  expect(response.headers.get('content-type')).toBe('text/event-stream')
  const text = await response.text()
  const events = text
    .split('\n\n')
    .filter((frame) => frame !== '')
    .map((frame) => {
      const [eventLine, dataLine] = frame.split('\n')
      return { event: (eventLine ?? '').replace(/^event: /, ''), data: JSON.parse((dataLine ?? '').replace(/^data: /, '')) as Record<string, unknown> }
    })
  return { text, events }
}

describe('Responses API, JSON', () => {
  it('answers with a response object, message output and usage, as openai 7 reads it', async () => {
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'What is caching?', instructions: 'Be brief.', metadata: { team: 'cache' } })
    expect(response).toMatchObject({
      object: 'response',
      status: 'completed',
      model: 'gpt-4o-mini',
      error: null,
      incomplete_details: null,
      instructions: 'Be brief.',
      previous_response_id: null,
      metadata: { team: 'cache' },
      tools: [],
      text: { format: { type: 'text' } },
      temperature: 1,
      store: true,
      background: false,
    })
    expect(response.id).toMatch(/^resp_/)
    expect(Math.abs(response.created_at - Date.now() / 1000)).toBeLessThan(5)
    expect(response.output).toHaveLength(1)
    const message = response.output[0]
    expect(message).toMatchObject({ type: 'message', role: 'assistant', status: 'completed' })
    expect(message?.type === 'message' && message.content[0]).toMatchObject({ type: 'output_text', annotations: [] })
    expect(response.output_text).toMatch(/^Echo: What is caching\?\. /)
    const usage = response.usage
    expect(usage?.input_tokens).toBeGreaterThan(5)
    expect(usage?.output_tokens).toBeGreaterThan(5)
    expect(usage?.total_tokens).toBe((usage?.input_tokens ?? 0) + (usage?.output_tokens ?? 0))
    expect(usage?.input_tokens_details.cached_tokens).toBe(0)
    expect(usage?.output_tokens_details.reasoning_tokens).toBe(0)
  })

  it('gives the same text to the same input, as chat does, and reads message items', async () => {
    const asString = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hello there' })
    const asItem = await client.responses.create({ model: 'gpt-4o-mini', input: [{ role: 'user', content: 'Hello there' }] })
    const asParts = await client.responses.create({
      model: 'gpt-4o-mini',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Hello there' }] }],
    })
    const chat = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello there' }] })
    expect(asString.output_text).toBe(chat.choices[0]?.message.content)
    expect(asString.output_text).toBe(fakeChatAnswer({ messages: [{ role: 'user', content: 'Hello there' }] }))
    expect(asItem.output_text).toBe(asString.output_text)
    expect(asItem.id).not.toBe(asString.id)
    // Like chat, the filler depends on the whole request, the echo only on the text.
    expect(asParts.output_text).toMatch(/^Echo: Hello there\. /)
  })

  it('calls a function tool, and answers with text after its output', async () => {
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'Weather in Paris?', tools: [weatherTool] })
    const call = response.output[0]
    expect(call).toMatchObject({ type: 'function_call', name: 'get_weather', status: 'completed' })
    if (call?.type !== 'function_call') throw new Error('expected a function call')
    expect(call.id).toMatch(/^fc_/)
    expect(call.call_id).toMatch(/^call_/)
    expect(JSON.parse(call.arguments)).toEqual({ query: 'Weather in Paris?' })
    expect(response.tools).toEqual([{ description: null, ...weatherTool }])

    const followUp = await client.responses.create({
      model: 'gpt-4o-mini',
      tools: [weatherTool],
      previous_response_id: response.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'Sunny' }],
    })
    expect(followUp.output[0]?.type).toBe('message')
    expect(followUp.previous_response_id).toBe(response.id)
    // The earlier turn is part of the prompt and served from the prompt cache.
    const earlier = response.usage?.total_tokens ?? 0
    expect(followUp.usage?.input_tokens_details.cached_tokens).toBe(earlier)
    expect(followUp.usage?.input_tokens).toBeGreaterThan(earlier)
  })

  it('rejects an unknown previous_response_id in OpenAI error shape', async () => {
    const error = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi', previous_response_id: 'resp_missing' }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.BadRequestError)
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('previous_response_id')
  })

  it('reports reasoning tokens and a reasoning item with a summary when asked', async () => {
    const response = await client.responses.create({
      model: 'o4-mini',
      input: 'Why is the sky blue?',
      reasoning: { effort: 'low', summary: 'auto' },
      include: ['reasoning.encrypted_content'],
      store: false,
    })
    expect(response.reasoning).toEqual({ effort: 'low', summary: 'auto' })
    const [reasoning, message] = response.output
    expect(reasoning).toMatchObject({ type: 'reasoning', summary: [{ type: 'summary_text' }] })
    expect(reasoning?.type === 'reasoning' && reasoning.encrypted_content).toMatch(/^enc_/)
    expect(message?.type).toBe('message')
    const reasoningTokens = response.usage?.output_tokens_details.reasoning_tokens ?? 0
    expect(reasoningTokens).toBeGreaterThan(0)
    expect(response.usage?.output_tokens).toBeGreaterThan(reasoningTokens)
  })

  it('is incomplete when max_output_tokens cuts the answer', async () => {
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'Tell me a long story', max_output_tokens: 3 })
    expect(response.status).toBe('incomplete')
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' })
    expect(response.output[0]).toMatchObject({ type: 'message', status: 'incomplete' })
    expect(response.output_text).toBe('Echo: Tell')
    expect(response.usage?.output_tokens).toBe(3)
    expect(response.max_output_tokens).toBe(3)
  })
})

describe('Responses API, streaming', () => {
  it('sends typed, numbered events in the API order and no [DONE]', async () => {
    const { text, events } = await rawStream({ model: 'gpt-4o-mini', input: 'Stream please' })
    expect(text).not.toContain('[DONE]')
    expect(events.every(({ event, data }) => event === data['type'])).toBe(true)
    expect(events.map(({ data }) => data['sequence_number'])).toEqual(events.map((_, index) => index))
    const types = events.map(({ event }) => event)
    const deltas = types.filter((type) => type === 'response.output_text.delta').length
    expect(deltas).toBeGreaterThan(2)
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      ...Array.from({ length: deltas }, () => 'response.output_text.delta'),
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ])
    const created = events[0]?.data['response'] as Record<string, unknown>
    expect(created).toMatchObject({ status: 'in_progress', output: [], usage: null })
    const delta = events[4]?.data
    expect(delta).toMatchObject({ output_index: 0, content_index: 0, logprobs: [] })
    expect(delta?.['item_id']).toMatch(/^msg_/)
    const completed = events.at(-1)?.data['response'] as Record<string, unknown>
    expect(completed['id']).toBe(created['id'])
    expect(completed['status']).toBe('completed')
    expect((completed['usage'] as Record<string, number>)['output_tokens']).toBeGreaterThan(0)
  })

  it('streams deltas that join to the JSON answer, and finalResponse() is that answer (openai 7)', async () => {
    const request = { model: 'gpt-4o-mini', input: 'Stream the same answer' }
    const json = await client.responses.create(request)
    const stream = await client.responses.create({ ...request, stream: true })
    const seen: string[] = []
    let text = ''
    for await (const event of stream) {
      seen.push(event.type)
      if (event.type === 'response.output_text.delta') text += event.delta
    }
    expect(text).toBe(json.output_text)
    expect(seen[0]).toBe('response.created')
    expect(seen.at(-1)).toBe('response.completed')

    const helper = client.responses.stream(request)
    let helperText = ''
    helper.on('response.output_text.delta', (event) => {
      helperText += event.delta
    })
    const final = await helper.finalResponse()
    expect(final.output_text).toBe(json.output_text)
    expect(helperText).toBe(json.output_text)
    expect(final.status).toBe('completed')
    expect(final.usage).toEqual(json.usage)
  })

  it('streams a function call as argument deltas', async () => {
    const { events } = await rawStream({ model: 'gpt-4o-mini', input: 'Weather in Rome?', tools: [weatherTool] })
    const types = events.map(({ event }) => event)
    expect(types[2]).toBe('response.output_item.added')
    expect(types).toContain('response.function_call_arguments.delta')
    expect(types.at(-3)).toBe('response.function_call_arguments.done')
    const joined = events
      .filter(({ event }) => event === 'response.function_call_arguments.delta')
      .map(({ data }) => String(data['delta']))
      .join('')
    expect(JSON.parse(joined)).toEqual({ query: 'Weather in Rome?' })

    const final = await client.responses.stream({ model: 'gpt-4o-mini', input: 'Weather in Rome?', tools: [weatherTool] }).finalResponse()
    expect(final.output[0]).toMatchObject({ type: 'function_call', name: 'get_weather', arguments: joined })
  })

  it('streams reasoning summary events before the message', async () => {
    const { events } = await rawStream({ model: 'o4-mini', input: 'Think first', reasoning: { effort: 'medium', summary: 'detailed' } })
    const types = events.map(({ event }) => event)
    expect(types.slice(2, 4)).toEqual(['response.output_item.added', 'response.reasoning_summary_part.added'])
    expect(types).toContain('response.reasoning_summary_text.delta')
    expect(types.indexOf('response.reasoning_summary_part.done')).toBeLessThan(types.indexOf('response.content_part.added'))
    const final = await client.responses
      .stream({ model: 'o4-mini', input: 'Think first', reasoning: { effort: 'medium', summary: 'detailed' } })
      .finalResponse()
    expect(final.output.map((item) => item.type)).toEqual(['reasoning', 'message'])
  })

  it('ends an incomplete answer with response.incomplete', async () => {
    const { events } = await rawStream({ model: 'gpt-4o-mini', input: 'Tell me a long story', max_output_tokens: 3 })
    const last = events.at(-1)
    expect(last?.event).toBe('response.incomplete')
    expect(last?.data['response']).toMatchObject({ status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } })
  })
})

describe('Responses API, stored responses and background mode', () => {
  it('retrieves, lists the input items of, and deletes a stored response; 404 otherwise', async () => {
    const created = await client.responses.create({ model: 'gpt-4o-mini', input: 'Remember me' })
    const retrieved = await client.responses.retrieve(created.id)
    expect(retrieved.output_text).toBe(created.output_text)
    expect(retrieved.id).toBe(created.id)
    const items = await client.responses.inputItems.list(created.id)
    expect(items.data).toHaveLength(1)
    expect(items.data[0]).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Remember me' }] })
    await client.responses.delete(created.id)
    await expect(client.responses.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    const unstored = await client.responses.create({ model: 'gpt-4o-mini', input: 'Forget me', store: false })
    await expect(client.responses.retrieve(unstored.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError)
    const missing = await fetch(`${fake.url}/responses/resp_nope/input_items`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: { type: 'invalid_request_error', message: "Response with id 'resp_nope' not found." } })
  })

  it('queues a background response, which is done when retrieved, or cancelled', async () => {
    const queued = await client.responses.create({ model: 'gpt-4o-mini', input: 'Later', background: true })
    expect(queued).toMatchObject({ status: 'queued', background: true, output: [], usage: null })
    const done = await client.responses.retrieve(queued.id)
    expect(done.status).toBe('completed')
    expect(done.output_text).toMatch(/^Echo: Later\. /)

    const second = await client.responses.create({ model: 'gpt-4o-mini', input: 'Never mind', background: true })
    const cancelled = await client.responses.cancel(second.id)
    expect(cancelled.status).toBe('cancelled')
    expect((await client.responses.retrieve(second.id)).status).toBe('cancelled')

    const foreground = await client.responses.create({ model: 'gpt-4o-mini', input: 'Now' })
    await expect(client.responses.cancel(foreground.id)).rejects.toBeInstanceOf(OpenAI.BadRequestError)
  })
})

describe('Responses API, faults', () => {
  it('answers a status fault in OpenAI error shape', async () => {
    fake.inject({ status: 429, headers: { 'retry-after': '1' } })
    const error = await client.responses.create({ model: 'gpt-4o-mini', input: 'hi' }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(OpenAI.RateLimitError)
    expect((error as InstanceType<typeof OpenAI.RateLimitError>).code).toBe('rate_limit_exceeded')
  })

  it('fails a stream halfway with response.failed or an error event', async () => {
    fake.inject({ streamError: 'data' })
    const failed = await rawStream({ model: 'gpt-4o-mini', input: 'Fail please' })
    const last = failed.events.at(-1)
    expect(last?.event).toBe('response.failed')
    expect(last?.data['response']).toMatchObject({ status: 'failed', error: { code: 'server_error' } })
    expect(last?.data['sequence_number']).toBe(failed.events.length - 1)
    expect(failed.events.map(({ event }) => event)).not.toContain('response.completed')

    fake.inject({ streamError: 'event' })
    const errored = await rawStream({ model: 'gpt-4o-mini', input: 'Fail please' })
    expect(errored.events.at(-1)).toMatchObject({ event: 'error', data: { type: 'error', code: 'server_error' } })

    fake.inject({ streamError: 'event' })
    const consume = async (): Promise<void> => {
      for await (const _event of await client.responses.create({ model: 'gpt-4o-mini', input: 'Fail please', stream: true })) {
        // Read until the error event.
      }
    }
    await expect(consume()).rejects.toBeInstanceOf(OpenAI.APIError)
  })

  it('before-done leaves out the terminal event', async () => {
    fake.inject({ drop: 'before-done' })
    const { events } = await rawStream({ model: 'gpt-4o-mini', input: 'Almost' })
    expect(events.at(-1)?.event).toBe('response.output_item.done')
  })

  it('cuts a stream midway, which openai 7 reports as an error', async () => {
    fake.inject({ drop: 'mid-body', match: (call) => call.path === '/v1/responses' })
    const consume = async (): Promise<number> => {
      let count = 0
      for await (const _event of await client.responses.create({ model: 'gpt-4o-mini', input: 'Cut me off', stream: true })) count++
      return count
    }
    await expect(consume()).rejects.toThrow()
  })
})
