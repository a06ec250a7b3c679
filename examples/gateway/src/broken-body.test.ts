import type { AddressInfo } from 'node:net'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Why is my transfer pending?' }] }

describe('gateway: an upstream answer that breaks off after its headers', () => {
  let fake: FakeUpstream
  const closers: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
    fake.reset()
  })
  afterAll(() => fake.close())

  async function start(upstreamTimeoutMs = 60_000): Promise<string> {
    const engine = createAiCache({ upstream: fake.url, upstreamTimeoutMs })
    const server = createGatewayApp(engine, undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    closers.push(async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await engine.close()
    })
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  const ask = (url: string) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
      body: JSON.stringify(question),
    })

  it.each([
    { name: 'cut', drop: 'mid-body', status: 502, code: 'upstream_unreachable' },
    { name: 'hanging past the upstream timeout', drop: 'stall-mid-body', status: 504, code: 'upstream_timeout' },
  ] as const)('answers a non-stream body $name with $status $code and a Cache-Status, and stores nothing', async ({ drop, status, code }) => {
    const url = await start(500)
    fake.inject({ drop })
    const broken = await ask(url)
    expect(broken.status).toBe(status)
    expect(broken.headers.get('cache-status')).toMatch(new RegExp(`^aicache; fwd=uri-miss; detail=${code}`))
    expect(await broken.json()).toEqual({ error: { message: expect.any(String), type: 'api_error', code, param: null } })
    // Nothing half-done was kept: the next identical call is a miss that gets the whole answer.
    const next = await ask(url)
    expect(next.status).toBe(200)
    expect(next.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    expect(await next.json()).toMatchObject({ object: 'chat.completion' })
    expect(fake.callCount('/v1/chat/completions')).toBe(2)
  })
})
