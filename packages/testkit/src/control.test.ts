import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream, type FakeUpstream } from './index.js'

let fake: FakeUpstream

beforeAll(async () => {
  fake = await startFakeUpstream({ latencyMs: 0 })
})
afterAll(() => fake.close())

function chat(): Promise<Response> {
  return fetch(`${fake.url}/chat/completions`, {
    method: 'POST',
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  })
}

async function control(method: string, action: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${fake.origin}/__fake/${action}`, { method, body: body === undefined ? undefined : JSON.stringify(body) })
  expect(response.status).toBe(200)
  return response.json()
}

describe('HTTP control API', () => {
  it('counts, injects path faults and resets without recording itself', async () => {
    expect(fake.url).toBe(`http://127.0.0.1:${fake.port}/v1`)
    await (await chat()).text()
    await (await fetch(`${fake.url}/models`)).text()
    expect(await control('GET', 'calls')).toEqual({ total: 2, byPath: { '/v1/chat/completions': 1, '/v1/models': 1 } })

    await control('POST', 'fault', { path: '/v1/chat/completions', status: 503, times: 1, headers: { 'retry-after': '1' } })
    expect((await fetch(`${fake.url}/models`)).status).toBe(200)
    const faulted = await chat()
    expect(faulted.status).toBe(503)
    expect(faulted.headers.get('retry-after')).toBe('1')
    expect(await faulted.json()).toMatchObject({ error: { type: 'server_error' } })
    expect((await chat()).status).toBe(200)

    await control('POST', 'reset')
    expect(fake.callCount()).toBe(0)
    expect(await control('GET', 'calls')).toEqual({ total: 0, byPath: {} })
  })

  it('rejects a fault that is not a JSON object', async () => {
    const response = await fetch(`${fake.origin}/__fake/fault`, { method: 'POST', body: '[1]' })
    expect(response.status).toBe(400)
  })
})
