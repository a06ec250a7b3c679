import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startFakeUpstream, type FakeUpstream } from './index.js'

let fake: FakeUpstream
let client: OpenAI

beforeAll(async () => {
  fake = await startFakeUpstream()
  client = new OpenAI({ baseURL: fake.url, apiKey: 'sk-test', maxRetries: 0 })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

function post(path: string, body: string): Promise<Response> {
  return fetch(`${fake.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
}

describe('other endpoints', () => {
  it('completes legacy prompts, streaming the same text', async () => {
    const completion = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi' })
    expect(completion.id).toMatch(/^cmpl-fake-\d+$/)
    expect(completion.object).toBe('text_completion')
    expect(completion.choices[0]?.text).toMatch(/^Echo: Say hi\. /)
    const stream = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hi', stream: true })
    let text = ''
    for await (const chunk of stream) text += chunk.choices[0]?.text ?? ''
    expect(text).toBe(completion.choices[0]?.text)
  })

  it('returns decoded, normalised, deterministic embeddings through the client', async () => {
    const response = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta', 'alpha'] })
    const [alpha, beta, alphaAgain] = response.data.map((item) => item.embedding)
    expect(alpha).toHaveLength(16)
    expect(alpha?.every((value) => typeof value === 'number')).toBe(true)
    expect(Math.hypot(...(alpha ?? []))).toBeCloseTo(1, 5)
    expect(alphaAgain).toEqual(alpha)
    expect(beta).not.toEqual(alpha)
    expect(response.usage.prompt_tokens).toBe(3)
    const asFloats = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha', encoding_format: 'float', dimensions: 8 })
    expect(asFloats.data[0]?.embedding).toHaveLength(8)
    const sixteen = await client.embeddings.create({ model: 'text-embedding-3-small', input: 'alpha', encoding_format: 'float' })
    expect(sixteen.data[0]?.embedding).toEqual(alpha)
  })

  it('lists and retrieves models', async () => {
    const models = []
    for await (const model of client.models.list()) models.push(model.id)
    expect(models).toContain('gpt-4o-mini')
    const model = await client.models.retrieve('gpt-4o')
    expect(model).toMatchObject({ id: 'gpt-4o', object: 'model' })
  })

  it.each([
    ['/chat/completions', '{not json', null],
    ['/chat/completions', '{"messages":[{"role":"user","content":"hi"}]}', 'model'],
    ['/chat/completions', '{"model":"gpt-4o"}', 'messages'],
    ['/completions', '{"model":"gpt-4o"}', 'prompt'],
    ['/embeddings', '{"model":"gpt-4o"}', 'input'],
  ])('rejects bad input to %s (%s) with 400', async (path, body, param) => {
    const response = await post(path, body)
    expect(response.status).toBe(400)
    const { error } = (await response.json()) as { error: { type: string; param: string | null } }
    expect(error).toMatchObject({ type: 'invalid_request_error', param })
  })

  it('answers unknown paths with a 404 error body, still recording the call', async () => {
    const response = await post('/nothing-here?x=1', '{}')
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error' } })
    expect(fake.calls[0]).toMatchObject({ method: 'POST', path: '/v1/nothing-here', rawBody: '{}', body: {}, completed: true })
  })

  it('records calls with lower-cased headers and counts them by path', async () => {
    await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'X-Trace': 'abc' } })
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' })
    await fake.settled()
    expect(fake.callCount()).toBe(2)
    expect(fake.callCount('/v1/chat/completions')).toBe(1)
    expect(fake.calls[0]?.headers['x-trace']).toBe('abc')
    expect(fake.calls[0]?.headers['authorization']).toBe('Bearer sk-test')
    expect(fake.calls[0]?.body).toMatchObject({ model: 'gpt-4o' })
  })
})
