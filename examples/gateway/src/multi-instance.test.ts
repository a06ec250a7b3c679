import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const adminToken = 'multi-instance-admin'
const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Can I get a refund for a card payment?' }] }

function startGateway(upstreamUrl: string, configPath: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, PORT: '0', AICACHE_UPSTREAM_URL: upstreamUrl, AICACHE_CONFIG: configPath, AICACHE_ADMIN_TOKEN: adminToken },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line)
      if (match) resolve({ url: match[1]!, child })
    })
  })
}

/** A fake upstream, a Redis server and three gateways on it, configured with `options` (and Redis). */
interface Cluster {
  fake: FakeUpstream
  gateways: Array<{ url: string; child: ChildProcess }>
  stop(): Promise<void>
}

async function startCluster(options: Record<string, unknown> = {}): Promise<Cluster> {
  const fake = await startFakeUpstream()
  const redis: RedisServer = await startRedisServer()
  const configFolder = mkdtempSync(join(tmpdir(), 'aicache-multi-instance-'))
  // What is tested is sharing through Redis, not its deadline: when every
  // test of the repository runs at once on two cores, a Redis answer can
  // take longer than the default 100 ms, and the instance then (rightly)
  // goes on without Redis (fail-open is tested in the core).
  const configPath = join(configFolder, 'config.json')
  writeFileSync(configPath, JSON.stringify({ ...options, redis: { redis: redis.url, timeoutMs: 2000 } }))
  const gateways = await Promise.all([0, 1, 2].map(() => startGateway(fake.url, configPath)))
  return {
    fake,
    gateways,
    async stop() {
      await Promise.all(
        gateways.map(({ child }) => {
          const exited = new Promise((resolve) => child.once('exit', resolve))
          child.kill('SIGTERM')
          return exited
        }),
      )
      await fake.close()
      await redis.stop()
      rmSync(configFolder, { recursive: true, force: true })
    },
  }
}

describe.skipIf(skipWithoutRedis())('three gateway processes on one Redis', () => {
  let cluster: Cluster
  let fake: FakeUpstream
  let gateways: Cluster['gateways']
  beforeAll(async () => {
    cluster = await startCluster()
    ;({ fake, gateways } = cluster)
  })
  afterAll(() => cluster.stop())

  const client = (url: string) => new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-shared', maxRetries: 0 })

  it('make one upstream call for 300 concurrent identical cold requests spread over them', async () => {
    fake.setLatency(300)
    const answers = await Promise.all(Array.from({ length: 300 }, (_, index) => client(gateways[index % 3]!.url).chat.completions.create(question)))
    fake.setLatency(0)
    expect(fake.callCount('/v1/chat/completions')).toBe(1)
    expect(new Set(answers.map((answer) => answer.id)).size).toBe(1)
  })

  it('see an invalidation made through one of them at once', async () => {
    const status = async (url: string) => (await client(url).chat.completions.create(question).withResponse()).response.headers.get('cache-status')
    for (const { url } of gateways) expect(await status(url)).toMatch(/hit/)
    const invalidated = await fetch(`${gateways[0]!.url}/aicache/invalidate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ namespace: 'default' }),
    })
    expect(invalidated.status).toBe(200)
    const before = fake.callCount()
    // The other two see the new generation on their very next request.
    expect(await status(gateways[1]!.url)).toMatch(/fwd=uri-miss/)
    expect(await status(gateways[2]!.url)).toMatch(/hit/)
    expect(fake.callCount()).toBe(before + 1)
  })
})

describe.skipIf(skipWithoutRedis())('three gateway processes with a rate limit on one Redis', () => {
  const requestsPerMinute = 60
  let cluster: Cluster
  beforeAll(async () => {
    cluster = await startCluster({ rateLimit: { requestsPerMinute } })
  })
  afterAll(() => cluster.stop())

  it('hold one global limit per key within 5%', async () => {
    const startedAt = performance.now()
    const statuses = await Promise.all(
      Array.from({ length: 3 * requestsPerMinute }, async (_, index) => {
        const response = await fetch(`${cluster.gateways[index % 3]!.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-limited' },
          body: JSON.stringify({ ...question, messages: [{ role: 'user', content: `Question ${index}` }] }),
        })
        await response.arrayBuffer()
        return response.status
      }),
    )
    const elapsedSeconds = (performance.now() - startedAt) / 1000
    const allowed = statuses.filter((status) => status === 200).length
    expect(statuses.filter((status) => status !== 200 && status !== 429)).toEqual([])
    // A minute's budget at once, plus what refilled (one a second) while the burst ran.
    expect(allowed).toBeGreaterThanOrEqual(requestsPerMinute)
    expect(allowed).toBeLessThanOrEqual(Math.ceil(requestsPerMinute * 1.05 + elapsedSeconds * (requestsPerMinute / 60)))
  })
})
