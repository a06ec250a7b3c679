import { request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type AiCacheOptions, createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

/**
 * Tenancy through the gateway, attacked the way a caller can: raw HTTP
 * requests on a real socket with the credential headers a caller controls.
 */

const question = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is my account balance?' }] })

interface Answer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** One POST with exactly these headers (node's client sends an empty header value as it is). */
function post(url: string, headers: Record<string, string>, body = question): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers },
    })
    outgoing.on('response', (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() }))
      response.on('error', reject)
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

describe('credentials through the gateway', () => {
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

  async function start(options: Omit<AiCacheOptions, 'upstream'> = {}): Promise<string> {
    const server = createGatewayApp(createAiCache({ upstream: fake.url, ...options }), undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    servers.push(server)
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  it.each(['', ' ', 'Bearer ', 'Bearer undefined', 'Bearer null'])(
    'never shares answers between api-key holders whose Authorization is %j',
    async (authorization) => {
      const url = await start()
      const first = await post(url, { authorization, 'api-key': 'tenant-a-key' })
      const second = await post(url, { authorization, 'api-key': 'tenant-b-key' })
      expect(first.status).toBe(200)
      expect(second.status).toBe(200)
      expect(second.headers['cache-status']).toMatch(/fwd=uri-miss/)
      expect(fake.calls.map((call) => call.headers['api-key'])).toEqual(['tenant-a-key', 'tenant-b-key'])
      // The same tenant again is a hit: the scope is the api-key's.
      const again = await post(url, { authorization, 'api-key': 'tenant-b-key' })
      expect(again.headers['cache-status']).toMatch(/hit/)
      expect(fake.callCount()).toBe(2)
    },
  )

  describe('rate limits when the gateway sends its own upstream key', () => {
    const limits = { upstreamApiKey: 'sk-gateway', rateLimit: { requestsPerMinute: 2 } }

    it('does not give a made-up Authorization a fresh allowance: limits go by address', async () => {
      const url = await start(limits)
      const answers = []
      for (const index of [1, 2, 3]) answers.push(await post(url, { authorization: `Bearer made-up-${index}` }))
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429])
      expect(JSON.parse(answers[2]!.body)).toMatchObject({ error: { code: 'rate_limited' } })
      expect(answers[2]!.headers['retry-after']).toBeDefined()
      // The upstream only ever saw the gateway's key.
      expect(fake.calls.map((call) => call.headers['authorization'])).toEqual(['Bearer sk-gateway', 'Bearer sk-gateway'])
    })

    it('counts by a header a trusted proxy sets, whatever Authorization says', async () => {
      const url = await start({ ...limits, rateLimit: { requestsPerMinute: 2, identity: { header: 'X-Authenticated-User' } } })
      const statuses = async (user: string) => {
        const result = []
        for (const index of [1, 2, 3]) result.push((await post(url, { authorization: `Bearer ${user}-${index}`, 'x-authenticated-user': user })).status)
        return result
      }
      expect(await statuses('alice')).toEqual([200, 200, 429])
      expect(await statuses('bob')).toEqual([200, 200, 429])
    })

    it('refuses at creation to count by the credential scope, which callers could mint', () => {
      expect(() => createAiCache({ upstream: fake.url, ...limits, rateLimit: { requestsPerMinute: 2, identity: 'scope' } })).toThrow(/rateLimit\.identity/)
    })
  })
})
