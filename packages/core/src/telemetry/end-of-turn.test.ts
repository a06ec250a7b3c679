import { context, trace } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAiCache } from '../index.js'
import type { ExchangeRequest } from '../exchange/types.js'
import { attribute, metric } from './names.js'
import { byName, sdk } from '../../test/support/test-sdk.js'

const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Can I change my delivery address?' }] }))

/** A chat request whose body is already in memory. */
function chatExchange(): ExchangeRequest {
  return {
    method: 'POST',
    path: '/v1/chat/completions',
    url: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
    readBody: () => body,
    bodyStream: async function* () {
      yield body
    },
    signal: new AbortController().signal,
  }
}

const hrMs = ([seconds, nanos]: [number, number]) => seconds * 1000 + nanos / 1e6

describe('recording at the end of the turn', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    fake = await startFakeUpstream()
  })
  afterAll(async () => {
    context.disable()
    await fake.close()
  })

  it('records a hit after its turn, with its own times and under the span it ran in', async () => {
    const telemetry = sdk()
    const cache = createAiCache({ upstream: fake.url, telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider } })
    await cache.handle(chatExchange())
    const parent = telemetry.tracerProvider.getTracer('app').startSpan('POST /v1/chat/completions')
    const before = Date.now()
    await context.with(trace.setSpan(context.active(), parent), () => cache.handle(chatExchange()))
    const after = Date.now()
    // The miss's span was started for its upstream call; the hit's is not made yet.
    expect(byName(telemetry.exporter.getFinishedSpans(), 'aicache chat')).toHaveLength(0)

    const [miss, hit] = byName(await telemetry.spans(), 'aicache chat')
    const [client] = byName(await telemetry.spans(), 'chat gpt-4o-mini')
    expect(client?.parentSpanContext?.spanId).toBe(miss?.spanContext().spanId)
    expect(hit?.attributes[attribute.result]).toBe('hit')
    expect(hit?.parentSpanContext?.spanId).toBe(parent.spanContext().spanId)
    // Dated when the request ran, not when it was recorded (1 ms of slack for clock rounding).
    expect(hrMs(hit!.startTime)).toBeGreaterThanOrEqual(before - 1)
    expect(hrMs(hit!.endTime)).toBeLessThanOrEqual(after + 1)
    expect(hrMs(hit!.endTime)).toBeGreaterThanOrEqual(hrMs(hit!.startTime))
    const points = await telemetry.points(metric.requestDuration)
    expect(points.reduce((count, point) => count + (typeof point.value === 'number' ? 0 : point.value.count), 0)).toBe(2)
    await cache.close()
  })

  it('records what is queued when the engine closes, before the SDK may shut down', async () => {
    const telemetry = sdk()
    const cache = createAiCache({ upstream: fake.url, telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider } })
    await cache.handle(chatExchange())
    await cache.handle(chatExchange())
    const closed = cache.close()
    expect(byName(telemetry.exporter.getFinishedSpans(), 'aicache chat').map((span) => span.attributes[attribute.result])).toEqual(['miss', 'hit'])
    await closed
  })

  it('keeps recording the rest of a turn, and serving, when one SDK throws', async () => {
    const telemetry = sdk()
    const throwing = {
      getTracer: () => ({
        startSpan: () => {
          throw new Error('exporter misconfigured')
        },
        startActiveSpan: () => {
          throw new Error('exporter misconfigured')
        },
      }),
    }
    const broken = createAiCache({ upstream: fake.url, telemetry: { tracerProvider: throwing } })
    const working = createAiCache({ upstream: fake.url, telemetry: { tracerProvider: telemetry.tracerProvider } })
    // The miss starts its span for the upstream call; the hit's is made at the end of the turn, beside the working engine's.
    expect((await broken.handle(chatExchange())).type).toBe('respond')
    expect((await broken.handle(chatExchange())).type).toBe('respond')
    expect((await working.handle(chatExchange())).type).toBe('respond')
    expect((await working.handle(chatExchange())).type).toBe('respond')
    expect(byName(await telemetry.spans(), 'aicache chat').map((span) => span.attributes[attribute.result])).toEqual(['miss', 'hit'])
    expect(broken.stats()).toMatchObject({ requests: 2, hits: { l1: 1 }, misses: 1 })
    await Promise.all([broken.close(), working.close()])
  })
})
