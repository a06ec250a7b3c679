import { metrics, trace } from '@opentelemetry/api'
import { describe, expect, it, vi } from 'vitest'
import { AiCacheError } from './errors.js'
import { resolveRouteOptions } from './exchange/route-options.js'
import { type AiCacheOptions, createAiCache } from './index.js'
import { resolveOptions } from './options.js'

const redisUrl = 'redis://127.0.0.1:1'

function refusal(options: unknown): AiCacheError {
  try {
    createAiCache(options as AiCacheOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(AiCacheError)
    return error as AiCacheError
  }
  throw new Error('expected createAiCache to throw')
}

describe('nested options are validated when the engine is created', () => {
  it.each<[string, unknown]>([
    ['redis.timeoutMs', { redis: { redis: redisUrl, timeoutMs: -5 } }],
    ['redis.maxTtlMs', { redis: { redis: redisUrl, maxTtlMs: 'an hour' } }],
    ['redis.prefix', { redis: { redis: redisUrl, prefix: 'a{b}' } }],
    ['redis.timeoutMS', { redis: { redis: redisUrl, timeoutMS: 50 } }],
    ['redis.redis', { redis: { redis: 'http://127.0.0.1:6379' } }],
    ['redis', { redis: 'localhost:6379' }],
    ['redis', { redis: 42 }],
    ['normalize', { normalize: 'whitespace' }],
    ['normalize.whitespace', { normalize: { whitespace: 'yes' } }],
    ['normalize.whitespaces', { normalize: { whitespaces: true } }],
    ['telemetry', { telemetry: true }],
    ['telemetry.tracerProvider', { telemetry: { tracerProvider: {} } }],
    ['telemetry.meterProvider', { telemetry: { meterProvider: 'prometheus' } }],
    ['telemetry.recordContent', { telemetry: { recordContent: 1 } }],
    ['telemetry.recordContents', { telemetry: { recordContents: true } }],
    ['prices', { prices: [] }],
    ['prices.my-model', { prices: { 'my-model': 3 } }],
    ['prices.my-model.inputPerMillionUsd', { prices: { 'my-model': { inputPerMillionUsd: -1, outputPerMillionUsd: 2 } } }],
    ['prices.my-model.outputPerMillionUsd', { prices: { 'my-model': { inputPerMillionUsd: 1 } } }],
    ['prices.my-model.cacheReadPerMillionUsd', { prices: { 'my-model': { inputPerMillionUsd: 1, outputPerMillionUsd: 2, cacheReadPerMillionUsd: -1 } } }],
    ['prices.my-model.cacheWritePerMillionUsd', { prices: { 'my-model': { inputPerMillionUsd: 1, outputPerMillionUsd: 2, cacheWritePerMillionUsd: 'x' } } }],
    ['memoryTier', { memoryTier: 'no' }],
    ['upstreamApiKey', { upstreamApiKey: 42 }],
    ['upstreamApiKey.anthropic', { upstreamApiKey: { anthropic: 42 } }],
    ['upstream.anthropic', { upstream: { anthropic: 'ftp://example.com' } }],
    ['upstream.azure', { upstream: { azure: 'https://example.com' } }],
    ['namespace', { namespace: 'a\n0' }],
  ])('refuses a bad %s with a message naming it', (param, options) => {
    const warned = vi.spyOn(console, 'warn').mockImplementation(() => {})
    try {
      const error = refusal(options)
      expect(error.code).toBe('invalid_option')
      expect(error.param).toBe(param)
      expect(error.message).toContain(`'${param}'`)
      // Refused at creation, not a warning later with the engine running without the part.
      expect(warned).not.toHaveBeenCalled()
    } finally {
      warned.mockRestore()
    }
  })

  it('sends every provider to one upstream URL given as a string, or each to its own', () => {
    const one = resolveOptions({ upstream: 'https://llm.internal/v1/', upstreamApiKey: 'sk-up' })
    expect(one.mode).toBe('proxy')
    expect(one.upstream?.href).toBe('https://llm.internal/v1')
    expect(one.upstreams.anthropic?.href).toBe('https://llm.internal/v1')
    expect(one.upstreamApiKeys).toEqual({ openai: 'sk-up', anthropic: 'sk-up' })
    const split = resolveOptions({
      upstream: { openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com/v1' },
      upstreamApiKey: { anthropic: 'sk-ant' },
    })
    expect(split.upstream?.href).toBe('https://api.openai.com/v1')
    expect(split.upstreams.anthropic?.href).toBe('https://api.anthropic.com/v1')
    expect(split.upstreamApiKey).toBeUndefined()
    expect(split.upstreamApiKeys).toEqual({ anthropic: 'sk-ant' })
    const anthropicOnly = resolveOptions({ upstream: { anthropic: 'https://api.anthropic.com/v1' } })
    expect(anthropicOnly.mode).toBe('proxy')
    expect(anthropicOnly.upstream).toBeUndefined()
    expect(resolveOptions({}).mode).toBe('wrap')
  })

  it('refuses a route namespace a header could not carry', () => {
    expect(() => resolveRouteOptions({ namespace: 'support bot' })).toThrow(/'route.namespace'/)
  })

  it('accepts every nested option in its documented form and leaves the caller object alone', async () => {
    const options: AiCacheOptions = {
      normalize: { whitespace: true, case: false },
      telemetry: { tracerProvider: trace.getTracerProvider(), meterProvider: metrics.getMeterProvider(), recordContent: false },
      prices: { 'my-finetune': { inputPerMillionUsd: 0.3, outputPerMillionUsd: 1.2 } },
      memoryTier: true,
      namespace: 'support-bot:v2',
    }
    const copy = structuredClone({ ...options, telemetry: undefined })
    const cache = createAiCache(options)
    expect(cache.options.normalize).toEqual({ whitespace: true, case: false })
    expect(cache.options.prices['my-finetune']).toEqual({ inputPerMillionUsd: 0.3, outputPerMillionUsd: 1.2 })
    expect({ ...options, telemetry: undefined }).toEqual(copy)
    await cache.close()
  })
})
