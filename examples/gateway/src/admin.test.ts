import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

const adminToken = 'admin-secret'
const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Where is my parcel?' }] }

describe('POST /aicache/invalidate', () => {
  let fake: FakeUpstream
  const servers: Server[] = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(() => {
    for (const server of servers.splice(0)) {
      server.close()
      server.closeAllConnections()
    }
    fake.reset()
  })
  afterAll(() => fake.close())

  async function start(): Promise<string> {
    const server = createGatewayApp(createAiCache({ upstream: fake.url }), adminToken).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    servers.push(server)
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  function invalidate(url: string, body: string | undefined, contentType = 'application/json'): Promise<Response> {
    return fetch(`${url}/aicache/invalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { 'content-type': contentType }) },
      body,
    })
  }

  /** Asks `question` in `namespace` and says where the answer came from. */
  async function ask(url: string, namespace?: string): Promise<'hit' | 'miss'> {
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const headers = namespace === undefined ? {} : { 'x-aicache-namespace': namespace }
    const { response } = await openai.chat.completions.create(question, { headers }).withResponse()
    return /hit/.test(response.headers.get('cache-status') ?? '') ? 'hit' : 'miss'
  }

  it.each([
    ['no body', undefined, 'invalid_json', null],
    ['an empty JSON body', '', 'invalid_json', null],
    ['malformed JSON', '{"namespace": ', 'invalid_json', null],
    ['an empty object', '{}', 'missing_field', 'namespace'],
    ['a JSON array', '["default"]', 'invalid_type', null],
    ['all: false', '{"all": false}', 'invalid_value', 'all'],
    ['a namespace and all', '{"namespace": "default", "all": true}', 'invalid_value', 'all'],
    ['the reserved namespace', '{"namespace": "*"}', 'invalid_type', 'namespace'],
  ])('refuses %s with an OpenAI-style 400 and invalidates nothing', async (_name, body, code, param) => {
    const url = await start()
    expect(await ask(url)).toBe('miss')
    const response = await invalidate(url, body)
    expect(response.status).toBe(400)
    const answer = (await response.json()) as { error: Record<string, unknown> }
    expect(answer.error).toMatchObject({ type: 'invalid_request_error', code, param })
    expect(answer.error['message']).toEqual(expect.any(String))
    expect(await ask(url)).toBe('hit')
  })

  it('invalidates one namespace and leaves the others', async () => {
    const url = await start()
    await ask(url)
    await ask(url, 'docs')
    const response = await invalidate(url, JSON.stringify({ namespace: 'docs' }))
    expect(await response.json()).toEqual({ invalidated: 'docs' })
    expect(await ask(url, 'docs')).toBe('miss')
    expect(await ask(url)).toBe('hit')
  })

  it('invalidates every namespace with {"all": true}, also one it never heard of before', async () => {
    const url = await start()
    for (const namespace of [undefined, 'docs', 'billing']) expect(await ask(url, namespace)).toBe('miss')
    for (const namespace of [undefined, 'docs', 'billing']) expect(await ask(url, namespace)).toBe('hit')
    const response = await invalidate(url, JSON.stringify({ all: true }), 'text/plain')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ invalidated: '*' })
    for (const namespace of [undefined, 'docs', 'billing']) expect(await ask(url, namespace)).toBe('miss')
    // New entries after the epoch are cached again.
    expect(await ask(url, 'docs')).toBe('hit')
  })
})
