import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import express from 'express'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { aiCache } from './index.js'
import { listen } from '../test/support/test-apps.js'

// A seed beyond 2^53: JSON.parse then JSON.stringify would send 12345678901234567000.
const bigSeedBody = '{"model":"gpt-4o-mini","seed":12345678901234567890,"messages":[{"role":"user","content":"hi"}]}'
const deleteBody = '{"purge":true,"id":12345678901234567890}'

describe('express adapter with express.json() mounted before or after it', () => {
  let fake: FakeUpstream
  const closers: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
    fake.reset()
    vi.restoreAllMocks()
  })
  afterAll(() => fake.close())

  async function serve(app: express.Express): Promise<string> {
    const running = await listen(app)
    closers.push(running.close)
    return running.url
  }

  const send = (url: string, path: string, body: string, method = 'POST') =>
    fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' }, body })

  it('forwards the original bytes and answers malformed JSON itself when mounted first', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const app = express()
    app.use(aiCache({ upstream: fake.url }))
    app.use(express.json())
    const url = await serve(app)
    expect((await send(url, '/v1/chat/completions', bigSeedBody)).status).toBe(200)
    await send(url, '/v1/files/x', deleteBody, 'DELETE')
    expect(fake.calls.map((call) => call.rawBody)).toEqual([bigSeedBody, deleteBody])
    const malformed = await send(url, '/v1/chat/completions', '{"model": "gpt-4o-mini", "messages": [')
    expect(malformed.status).toBe(400)
    expect(await malformed.json()).toMatchObject({ error: { code: 'invalid_json', type: 'invalid_request_error' } })
    expect(warn).not.toHaveBeenCalled()
  })

  it('forwards the bytes a verify hook kept when express.json() ran first', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const app = express()
    app.use(express.json({ verify: (req, _res, buffer) => void ((req as { rawBody?: Buffer }).rawBody = buffer) }))
    app.use(aiCache({ upstream: fake.url }))
    const url = await serve(app)
    expect((await send(url, '/v1/chat/completions', bigSeedBody)).status).toBe(200)
    await send(url, '/v1/files/x', deleteBody, 'DELETE')
    expect(fake.calls.map((call) => call.rawBody)).toEqual([bigSeedBody, deleteBody])
    // The same bytes again: a hit.
    expect((await send(url, '/v1/chat/completions', bigSeedBody)).headers.get('cache-status')).toMatch(/hit/)
    expect(warn).not.toHaveBeenCalled()
  })

  it('says once, with the fix, that a body express.json() consumed is forwarded serialised again', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {})
    const app = express()
    app.use(express.json())
    app.use(aiCache({ upstream: fake.url }))
    const url = await serve(app)
    await send(url, '/v1/chat/completions', bigSeedBody)
    await send(url, '/v1/chat/completions', bigSeedBody.replace('hi', 'hello'))
    await send(url, '/v1/files/x', deleteBody, 'DELETE')
    expect(fake.callCount()).toBe(3)
    expect(fake.calls[0]?.rawBody).not.toBe(bigSeedBody)
    expect(warn).toHaveBeenCalledTimes(1)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/Mount aicache before the body parser/)
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/verify/)
  })
})
