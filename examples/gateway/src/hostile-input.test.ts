import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AiCacheOptions, createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createGatewayApp } from './app.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Why is my transfer pending?' }] }
const json = { 'content-type': 'application/json', authorization: 'Bearer sk-tenant-a' }

describe('gateway: hostile request bodies on a real socket', () => {
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
    vi.restoreAllMocks()
  })
  afterAll(() => fake.close())

  async function start(options: AiCacheOptions = {}): Promise<string> {
    const server = createGatewayApp(createAiCache({ upstream: fake.url, ...options }), undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    servers.push(server)
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/chat/completions`
  }

  const post = (url: string, body: string | Buffer, headers: Record<string, string> = json) => fetch(url, { method: 'POST', headers, body })

  it('answers deep nesting with a 400 naming the limit, logs no 500, and keeps serving', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const url = await start()
    for (const levels of [5_000, 1_000_000]) {
      const body = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"x":${'['.repeat(levels)}${']'.repeat(levels)}}`
      const response = await post(url, body)
      expect(response.status).toBe(400)
      const answer = (await response.json()) as { error: { code: string; message: string; type: string } }
      expect(answer.error).toMatchObject({ code: 'nesting_too_deep', type: 'invalid_request_error' })
      expect(answer.error.message).toMatch(/128 levels/)
    }
    expect((await post(url, JSON.stringify(question))).status).toBe(200)
    expect(logged).not.toHaveBeenCalled()
    expect(fake.callCount()).toBe(1)
  })

  it('keys a top-level __proto__ field: bodies that differ only there never share an answer', async () => {
    const url = await start()
    const withProto = (value: string) => JSON.stringify(question).replace(/}$/, `,"__proto__":{"tag":"${value}"}}`)
    const statuses: string[] = []
    for (const body of [withProto('one'), withProto('two'), JSON.stringify(question), withProto('one')]) {
      const response = await post(url, body)
      expect(response.status).toBe(200)
      statuses.push(response.headers.get('cache-status') ?? '')
    }
    expect(statuses.slice(0, 3).every((status) => /fwd=uri-miss/.test(status))).toBe(true)
    expect(statuses[3]).toMatch(/hit/)
    expect(fake.callCount()).toBe(3)
  })

  it('refuses bodies that are not UTF-8, so two different byte sequences never share a key', async () => {
    const url = await start()
    const [before, after] = JSON.stringify(question).split('pending')
    const bodies = [Buffer.from([0xff]), Buffer.from([0xfe])].map((bad) => Buffer.concat([Buffer.from(before!), bad, Buffer.from(after!)]))
    for (const body of bodies) {
      const response = await post(url, body)
      expect(response.status).toBe(400)
      expect(await response.json()).toMatchObject({ error: { code: 'invalid_json', type: 'invalid_request_error' } })
    }
    expect(fake.callCount()).toBe(0)
  })

  it('logs every 500 with its cause, but neither the body nor the credential', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    let calls = 0
    const url = await start({
      scope: () => {
        if (calls++ === 0) throw new Error('the scope store is gone')
        return 'tenant'
      },
    })
    const response = await post(url, JSON.stringify(question))
    expect(response.status).toBe(500)
    expect(await response.json()).toEqual({
      error: { message: 'The server had an error while processing your request.', type: 'api_error', code: 'internal_error', param: null },
    })
    const text = logged.mock.calls.flat().map(String).join('\n')
    expect(text).toContain('the scope store is gone')
    expect(text).toContain('POST /v1/chat/completions')
    expect(text).not.toContain('transfer pending')
    expect(text).not.toContain('sk-tenant-a')
    // The process keeps serving.
    expect((await post(url, JSON.stringify(question))).status).toBe(200)
  })
})
