import { type FakeUpstream, fakeChatAnswer, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import type { ChatCompletionChunk } from 'openai/resources/chat/completions'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { AiCacheOptions } from '../options.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Can I change my PIN online?' }] }
const tools = [{ type: 'function' as const, function: { name: 'lookup_policy', parameters: { type: 'object', properties: {} } } }]

async function readStream(stream: AsyncIterable<ChatCompletionChunk>) {
  let text = ''
  const chunks: ChatCompletionChunk[] = []
  const argumentsByCall: string[] = []
  for await (const chunk of stream) {
    chunks.push(chunk)
    const delta = chunk.choices[0]?.delta
    text += delta?.content ?? ''
    for (const call of delta?.tool_calls ?? []) argumentsByCall[call.index] = (argumentsByCall[call.index] ?? '') + (call.function?.arguments ?? '')
  }
  return { text, chunks, argumentsByCall, finish: chunks.findLast((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason }
}

describe('streaming', () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
    fake.setLatency(0)
    fake.setChunkDelay(0)
  })
  afterAll(() => fake.close())

  async function gateway(options: AiCacheOptions = {}) {
    const started = await startTestGateway({ upstream: fake.url, ...options })
    cleanups.push(started.close)
    return { ...started, openai: new OpenAI({ baseURL: `${started.url}/v1`, apiKey: 'sk-a', maxRetries: 0 }) }
  }

  it('records a stream on a miss and replays the same deltas on a hit', async () => {
    const { openai, cache } = await gateway()
    const miss = await openai.chat.completions.create({ ...question, stream: true }).withResponse()
    const missRead = await readStream(miss.data)
    const hit = await openai.chat.completions.create({ ...question, stream: true }).withResponse()
    const hitRead = await readStream(hit.data)
    expect(miss.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(hit.response.headers.get('cache-status')).toMatch(/hit; ttl=\d+; detail=l1/)
    expect(hit.response.headers.get('age')).toMatch(/^\d+$/)
    expect(missRead.text).toBe(fakeChatAnswer(question))
    expect(hitRead.text).toBe(missRead.text)
    expect(hitRead.chunks).toEqual(missRead.chunks)
    expect(fake.callCount()).toBe(1)
    expect(cache.stats().hits.l1).toBe(1)
  })

  it('replays tool-call deltas that reassemble to the same arguments', async () => {
    const { openai } = await gateway()
    const request = { ...question, tools, stream: true as const }
    const miss = await readStream(await openai.chat.completions.create(request))
    const hit = await readStream(await openai.chat.completions.create(request))
    expect(miss.argumentsByCall[0]).toBe(JSON.stringify({ query: question.messages[0]!.content }))
    expect(hit.argumentsByCall).toEqual(miss.argumentsByCall)
    expect(hit.finish).toBe('tool_calls')
  })

  it('asks the upstream for usage, hides it from a client that did not ask, and counts it as saved', async () => {
    const { openai, cache } = await gateway()
    const miss = await readStream(await openai.chat.completions.create({ ...question, stream: true }))
    expect(fake.calls[0]?.body).toMatchObject({ stream_options: { include_usage: true } })
    expect(miss.chunks.some((chunk) => chunk.usage)).toBe(false)
    const withUsage = await readStream(await openai.chat.completions.create({ ...question, stream: true, stream_options: { include_usage: true } }))
    const usage = withUsage.chunks.at(-1)?.usage
    expect(usage?.completion_tokens).toBeGreaterThan(0)
    expect(cache.stats().tokensSaved).toEqual({ input: usage?.prompt_tokens, output: usage?.completion_tokens })
  })

  it('answers a JSON request from a recorded stream with the assembled completion', async () => {
    const { openai } = await gateway()
    await readStream(await openai.chat.completions.create({ ...question, tools, stream: true }))
    const hit = await openai.chat.completions.create({ ...question, tools }).withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    const direct = await new OpenAI({ baseURL: fake.url, apiKey: 'sk-a' }).chat.completions.create({ ...question, tools })
    expect(hit.data.choices[0]?.message.tool_calls).toEqual(direct.choices[0]?.message.tool_calls?.map((call) => ({ ...call, id: expect.any(String) })))
    expect(hit.data.choices[0]?.finish_reason).toBe('tool_calls')
    expect(hit.data.usage).toEqual(direct.usage)
  })

  it('answers a stream request from a stored JSON answer with well-formed chunks', async () => {
    const { openai } = await gateway()
    const json = await openai.chat.completions.create(question)
    const hit = await openai.chat.completions.create({ ...question, stream: true, stream_options: { include_usage: true } }).withResponse()
    const read = await readStream(hit.data)
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    expect(read.text).toBe(json.choices[0]?.message.content)
    expect(read.finish).toBe('stop')
    for (const chunk of read.chunks) expect(chunk.object).toBe('chat.completion.chunk')
    expect(read.chunks.at(-1)?.usage).toEqual(json.usage)
    expect(fake.callCount()).toBe(1)
  })

  it('shares one upstream stream between concurrent identical requests, late joiners included', async () => {
    fake.setChunkDelay(15)
    const { openai } = await gateway()
    const first = openai.chat.completions.create({ ...question, stream: true })
    const firstStream = await first
    const iterator = firstStream[Symbol.asyncIterator]()
    const firstChunk = await iterator.next()
    // Joins after the first chunk was already sent: it must still get everything.
    const late = readStream(await openai.chat.completions.create({ ...question, stream: true }))
    let rest = firstChunk.value?.choices[0]?.delta.content ?? ''
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) rest += next.value.choices[0]?.delta.content ?? ''
    expect((await late).text).toBe(rest)
    expect(rest).toBe(fakeChatAnswer(question))
    expect(fake.callCount()).toBe(1)
  })

  it('stores nothing when the client aborts, and aborts the upstream too', async () => {
    fake.setChunkDelay(30)
    const { openai, cache } = await gateway()
    const controller = new AbortController()
    const stream = await openai.chat.completions.create({ ...question, stream: true }, { signal: controller.signal })
    for await (const _chunk of stream) {
      controller.abort()
      break
    }
    await fake.settled()
    expect(fake.calls[0]?.aborted).toBe(true)
    expect(cache.stats().memory.entries).toBe(0)
    fake.setChunkDelay(0)
    const next = await openai.chat.completions.create({ ...question, stream: true }).withResponse()
    expect(next.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    await readStream(next.data)
    expect(fake.callCount()).toBe(2)
  })

  it('gives the client an error and stores nothing when the upstream drops mid-stream', async () => {
    const { openai, cache } = await gateway()
    fake.inject({ drop: 'mid-body' })
    await expect(readStream(await openai.chat.completions.create({ ...question, stream: true }))).rejects.toThrow()
    expect(cache.stats().memory.entries).toBe(0)
    const again = await openai.chat.completions.create({ ...question, stream: true }).withResponse()
    expect(again.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    await readStream(again.data)
  })

  it('passes on but never stores a stream that ended without [DONE]', async () => {
    const { url, cache } = await gateway()
    fake.inject({ drop: 'before-done' })
    const ask = () =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...question, stream: true }),
      })
    const cut = await (await ask()).text()
    expect(cut).toContain('chat.completion.chunk')
    expect(cut).not.toContain('[DONE]')
    expect(cache.stats().memory.entries).toBe(0)
    const whole = await ask()
    expect(whole.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(await whole.text()).toContain('data: [DONE]')
  })

  it('gives a JSON request following a stream that reports an error a 502, and stores nothing', async () => {
    // Slow enough that the JSON request joins the stream in flight even on a loaded machine.
    fake.setChunkDelay(40)
    const { url, cache } = await gateway()
    const ask = (stream: boolean) =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
        body: JSON.stringify({ ...question, stream }),
      })
    fake.inject({ streamError: 'data' })
    const streamed = await ask(true)
    // Same key: the JSON request follows the stream in flight instead of calling again.
    const json = await ask(false)
    expect(await streamed.text()).toMatch(/"error".*\n\ndata: \[DONE\]\n\n$/s)
    expect(json.status).toBe(502)
    expect(await json.json()).toMatchObject({ error: { message: expect.stringContaining('The model failed'), type: expect.any(String) } })
    expect(fake.callCount()).toBe(1)
    expect(cache.stats().memory.entries).toBe(0)
    const again = await ask(false)
    expect(again.status).toBe(200)
    expect(again.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(fake.callCount()).toBe(2)
  })

  it('replays with the recorded timing when asked to', async () => {
    fake.setChunkDelay(20)
    const { openai } = await gateway({ replayPacing: 'recorded' })
    const miss = await readStream(await openai.chat.completions.create({ ...question, stream: true }))
    // Half the recorded gaps: a generous lower bound that a replay at full speed cannot reach.
    const recordedSpanMs = (miss.chunks.length - 1) * 20 * 0.5
    const startedAt = performance.now()
    const hit = await readStream(await openai.chat.completions.create({ ...question, stream: true }))
    // A lower bound only: a paced replay cannot be faster than the gaps it replays.
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(recordedSpanMs)
    expect(hit.text).toBe(fakeChatAnswer(question))
  })

  it('does not record a streamed error answer', async () => {
    const { openai } = await gateway({ retry: false })
    fake.inject({ status: 500 })
    await expect(openai.chat.completions.create({ ...question, stream: true })).rejects.toThrow()
    await readStream(await openai.chat.completions.create({ ...question, stream: true }))
    expect(fake.callCount()).toBe(2)
  })
})
