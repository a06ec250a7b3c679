import { spawn } from 'node:child_process'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Why is my transfer pending?' }] }

describe('gateway', () => {
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

  async function start(adminToken?: string): Promise<string> {
    const server = createGatewayApp(createAiCache({ upstream: fake.url }), adminToken).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    servers.push(server)
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  it('answers unknown routes with an OpenAI-style 404', async () => {
    const response = await fetch(`${await start()}/nothing-here`)
    expect(response.status).toBe(404)
    expect(await response.json()).toMatchObject({ error: { code: 'not_found' } })
  })

  it('has no admin routes without an admin token', async () => {
    const url = await start()
    expect((await fetch(`${url}/aicache/stats`)).status).toBe(404)
  })

  it('guards the admin routes with the token, and invalidates a namespace', async () => {
    const url = await start('admin-secret')
    const admin = { authorization: 'Bearer admin-secret' }
    expect((await fetch(`${url}/aicache/stats`)).status).toBe(401)
    expect((await fetch(`${url}/aicache/stats`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401)
    const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    await openai.chat.completions.create(question)
    await openai.chat.completions.create(question)
    const stats = await (await fetch(`${url}/aicache/stats`, { headers: admin })).json()
    expect(stats).toMatchObject({ requests: 2, misses: 1, hits: { l1: 1 } })
    const invalidated = await fetch(`${url}/aicache/invalidate`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: 'default' }),
    })
    expect(await invalidated.json()).toEqual({ invalidated: 'default' })
    const after = await openai.chat.completions.create(question).withResponse()
    expect(after.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    const bad = await fetch(`${url}/aicache/invalidate`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: 42 }),
    })
    expect(bad.status).toBe(400)
  })

  it('starts from the command line on the demo upstream and serves a miss, then a hit', async () => {
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url))
    const child = spawn(process.execPath, [main], {
      env: { ...process.env, PORT: '0', AICACHE_UPSTREAM_URL: '' },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    try {
      const lines: string[] = []
      const url = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`gateway exited with ${code}: ${lines.join('\n')}`)))
        createInterface({ input: child.stdout! }).on('line', (line) => {
          lines.push(line)
          const match = /listening on (http:\/\/\S+)/.exec(line)
          if (match) resolve(match[1]!)
        })
      })
      expect(lines.join('\n')).toMatch(/demo upstream/)
      const openai = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-demo', maxRetries: 0 })
      const miss = await openai.chat.completions.create(question).withResponse()
      const hit = await openai.chat.completions.create(question).withResponse()
      expect(miss.response.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
      expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
      expect(hit.data).toEqual(miss.data)
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  })
})
