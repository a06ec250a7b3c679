import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AiCacheOptions, createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'
import { loadConfig } from './config.js'

const adminToken = 'admin-secret'

describe('GET /aicache/capacity', () => {
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

  async function start(options: AiCacheOptions): Promise<string> {
    const engine = createAiCache({ upstream: fake.url, ...options })
    const server = createGatewayApp(engine, adminToken).listen(0, '127.0.0.1')
    server.on('close', () => void engine.close())
    await new Promise((resolve) => server.once('listening', resolve))
    servers.push(server)
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  const capacity = (url: string, token = adminToken) => fetch(`${url}/aicache/capacity`, { headers: { authorization: `Bearer ${token}` } })

  it('answers the forecast and the recommendation once an interval has ended', async () => {
    const url = await start({ capacity: { intervalMs: 100, minInstances: 2 } })
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    for (let index = 0; index < 5; index++) await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Q${index}` }] })
    await new Promise((resolve) => setTimeout(resolve, 250))
    const response = await capacity(url)
    expect(response.status).toBe(200)
    const report = (await response.json()) as { scope: string; forecast: unknown[]; recommendation: { instances: number }; history: unknown[] }
    expect(report.scope).toBe('instance')
    expect(report.forecast).toHaveLength(2)
    expect(report.recommendation.instances).toBe(2)
    expect(report.history.length).toBeGreaterThan(0)
  })

  it('needs the admin token, and says when the forecast is off', async () => {
    const url = await start({})
    expect((await capacity(url, 'wrong')).status).toBe(401)
    const off = await capacity(url)
    expect(off.status).toBe(404)
    expect(((await off.json()) as { error: { code: string } }).error.code).toBe('capacity_off')
  })

  it('is turned on and tuned by environment variables', () => {
    const config = loadConfig({ AICACHE_CAPACITY: 'on', AICACHE_CAPACITY_TARGET_UTILISATION: '0.6', AICACHE_CAPACITY_MAX_INSTANCES: '12' })
    expect(config.cache.capacity).toEqual({ targetUtilisation: 0.6, maxInstances: 12 })
    expect(() => loadConfig({ AICACHE_CAPACITY: 'maybe' })).toThrow(/AICACHE_CAPACITY must be 'on' or 'off'/)
  })
})
