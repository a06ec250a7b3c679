import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

// CI runs a fixed seed and a bounded count; `FUZZ_RUNS=20000 FUZZ_SEED=123 pnpm fuzz`
// (in examples/gateway) runs longer or elsewhere. A failure prints its seed and path.
const runs = Number(process.env['FUZZ_RUNS'] ?? 300)
const seed = Number(process.env['FUZZ_SEED'] ?? 20_261_205)

const paths = ['/v1/chat/completions', '/v1/completions', '/v1/embeddings'] as const
const headerText = fc.string({ unit: 'grapheme-ascii', maxLength: 40 })

/** The shape real clients send, with arbitrary values and extra fields. */
const plausibleFields = fc.record(
  {
    model: fc.oneof(fc.constantFrom('gpt-4o-mini', 'text-embedding-3-small'), fc.string(), fc.jsonValue({ maxDepth: 2 })),
    messages: fc.oneof(
      fc.array(
        fc.record({ role: fc.constantFrom('user', 'system', 'assistant'), content: fc.oneof(fc.string({ unit: 'binary' }), fc.jsonValue({ maxDepth: 2 })) }),
        { maxLength: 3 },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    prompt: fc.oneof(fc.string({ unit: 'binary' }), fc.array(fc.string(), { maxLength: 3 })),
    input: fc.oneof(fc.string({ unit: 'binary' }), fc.array(fc.string(), { maxLength: 3 })),
    stream: fc.oneof(fc.boolean(), fc.jsonValue({ maxDepth: 1 })),
    max_tokens: fc.integer({ min: -2, max: 40 }),
    n: fc.integer({ min: 0, max: 3 }),
    extra: fc.jsonValue({ maxDepth: 3 }),
  },
  { requiredKeys: [] },
)

/** A request body that is almost valid, sometimes with a top-level `__proto__` field. */
const plausibleBody = fc.tuple(plausibleFields, fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined })).map(([fields, proto]) => {
  const text = JSON.stringify(fields)
  // A `__proto__` field can only be written into the text: on an object it would set the prototype.
  if (proto === undefined) return Buffer.from(text)
  return Buffer.from(`{"__proto__":${JSON.stringify(proto)}${text === '{}' ? '}' : `,${text.slice(1)}`}`)
})

const nestedBody = fc
  .tuple(fc.integer({ min: 100, max: 5_000 }), fc.constantFrom('[', '{"a":'))
  .map(([levels, open]) => Buffer.from(`{"model":"gpt-4o-mini","prompt":"hi","x":${open.repeat(levels)}1${(open === '[' ? ']' : '}').repeat(levels)}}`))

const body = fc.oneof(
  { arbitrary: plausibleBody, weight: 4 },
  { arbitrary: fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? '')), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)), weight: 2 },
  // Valid JSON with a byte changed, cut short, or with bytes that are not UTF-8 spliced in.
  {
    arbitrary: fc.tuple(plausibleBody, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 })).map(([bytes, at, splice]) => {
      const cut = at % (bytes.length + 1)
      return Buffer.concat([bytes.subarray(0, cut), Buffer.from(splice), bytes.subarray(cut + (at % 3))])
    }),
    weight: 2,
  },
  { arbitrary: nestedBody, weight: 1 },
)

const contentType = fc.option(
  fc.oneof(
    fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.api+json', 'text/plain', 'multipart/form-data', ''),
    headerText,
  ),
  { nil: undefined },
)

const cacheHeaders = fc.record(
  {
    'cache-control': fc.oneof(
      fc.constantFrom('no-store', 'no-cache', 'only-if-cached', 'max-age=0', 'max-age=99999999999999999999', 'max-age="5"', 'private, max-age=60'),
      headerText,
    ),
    'x-aicache-ttl': fc.oneof(fc.nat().map(String), headerText),
    'x-aicache-namespace': fc.oneof(fc.constantFrom('docs', 'support:v2'), headerText),
  },
  { requiredKeys: [] },
)

const request = fc.record({ path: fc.constantFrom(...paths), body, contentType, cacheHeaders })
type Request = typeof request extends fc.Arbitrary<infer T> ? T : never

interface Answer {
  status: number
  cacheStatus: string
  contentType: string
  text: string
}

function checkWellFormed(answer: Answer): void {
  // Never a 500; the only 5xx the gateway itself may give here is only-if-cached with nothing stored (RFC 9111).
  expect(answer.status, answer.text).not.toBe(500)
  if (answer.status >= 400) {
    const body = JSON.parse(answer.text) as { error: Record<string, unknown> }
    expect(typeof body.error.message).toBe('string')
    expect(typeof body.error.type).toBe('string')
    expect(body.error).toHaveProperty('code')
    expect(body.error).toHaveProperty('param')
    if (answer.status >= 500) expect(body.error['code']).toBe('not_cached')
    return
  }
  expect(answer.status).toBe(200)
  if (answer.contentType.startsWith('text/event-stream')) {
    expect(answer.text.trimEnd().endsWith('data: [DONE]')).toBe(true)
  } else {
    const body = JSON.parse(answer.text) as { choices?: unknown; data?: unknown }
    expect(Array.isArray(body.choices) || Array.isArray(body.data)).toBe(true)
  }
}

describe('gateway fuzz: arbitrary requests on a real socket', () => {
  let fake: FakeUpstream
  let server: Server
  let url: string
  beforeAll(async () => {
    fake = await startFakeUpstream()
    server = createGatewayApp(createAiCache({ upstream: fake.url }), undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await fake.close()
  })

  async function send(input: Request, credential: string): Promise<Answer> {
    const headers: Record<string, string> = { ...input.cacheHeaders, authorization: `Bearer ${credential}` }
    if (input.contentType !== undefined) headers['content-type'] = input.contentType
    const response = await fetch(`${url}${input.path}`, { method: 'POST', headers, body: input.body })
    return {
      status: response.status,
      cacheStatus: response.headers.get('cache-status') ?? '',
      contentType: response.headers.get('content-type') ?? '',
      text: await response.text(),
    }
  }

  let tenants = 0
  it(
    `never crashes, never answers 500, always answers in the OpenAI shape, never shares across scopes (${runs} runs, seed ${seed})`,
    async () => {
      await fc.assert(
        fc.asyncProperty(request, async (input) => {
          // Two credentials never seen before: the second's first request can only hit the first's entry.
          tenants++
          const first = await send(input, `sk-fuzz-a-${tenants}`)
          checkWellFormed(first)
          const other = await send(input, `sk-fuzz-b-${tenants}`)
          checkWellFormed(other)
          expect(other.cacheStatus).not.toMatch(/; hit/)
          // The first credential again: a hit when its answer was stored, well-formed either way.
          checkWellFormed(await send(input, `sk-fuzz-a-${tenants}`))
        }),
        { numRuns: runs, seed, interruptAfterTimeLimit: Math.max(15_000, runs * 200) },
      )
      // Still serving.
      const after = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-after' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] }),
      })
      expect(after.status).toBe(200)
    },
    Math.max(60_000, runs * 400),
  )
})
