import { describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import { type RedisLayerOptions, resolveRedisLayerOptions } from './redis-layer-options.js'
import { redisKeys } from './redis-keys.js'

function thrown(options: RedisLayerOptions): AiCacheError {
  try {
    resolveRedisLayerOptions(options)
  } catch (error) {
    if (error instanceof AiCacheError) return error
    throw error
  }
  throw new Error('expected the options to be refused')
}

describe('resolveRedisLayerOptions', () => {
  it('fills in the defaults and freezes the result without touching the input', () => {
    const input = { redis: 'redis://127.0.0.1:6379' }
    const options = resolveRedisLayerOptions(input)
    expect(options).toMatchObject({
      prefix: 'aicache',
      timeoutMs: 100,
      compressAboveBytes: 4096,
      maxTtlMs: undefined,
      lockTtlMs: 30_000,
      failureThreshold: 5,
      coolDownMs: 1000,
      maxNamespaces: 1000,
      localTtlMs: undefined,
    })
    expect(Object.isFrozen(options)).toBe(true)
    expect(input).toEqual({ redis: 'redis://127.0.0.1:6379' })
  })

  it.each<[string, Partial<RedisLayerOptions>]>([
    ['redis', { redis: 'http://localhost' }],
    ['redis', { redis: {} as never }],
    ['prefix', { prefix: 'app{1}' }],
    ['prefix', { prefix: '' }],
    ['timeoutMs', { timeoutMs: 0 }],
    ['timeoutMs', { timeoutMs: Number.NaN }],
    ['compressAboveBytes', { compressAboveBytes: -1 }],
    ['maxNamespaces', { maxNamespaces: 0 }],
    ['maxNamespaces', { maxNamespaces: 2.5 }],
    ['localTtlMs', { localTtlMs: 0 }],
    ['localTtlMs', { localTtlMs: -1 }],
    ['maxTtlMs', { maxTtlMs: 0 }],
    ['lockTtlMs', { lockTtlMs: -5 }],
    ['failureThreshold', { failureThreshold: 2.5 }],
    ['coolDownMs', { coolDownMs: Number.POSITIVE_INFINITY }],
    ['onStateChange', { onStateChange: 'log' as never }],
  ])('refuses a bad %s, naming it', (param, override) => {
    const error = thrown({ redis: 'redis://127.0.0.1:6379', ...override })
    expect(error.code).toBe('invalid_option')
    expect(error.param).toBe(param)
    expect(error.message).toContain(param)
  })
})

describe('redisKeys', () => {
  it('gives an entry and its lock one hash tag, and each key its own', () => {
    const keys = redisKeys('aicache')
    expect(keys.entry('abc')).toBe('aicache:{abc}:entry')
    expect(keys.lock('abc')).toBe('aicache:{abc}:lock')
    expect(keys.generation('docs')).toBe('aicache:gen:docs')
    expect(() => keys.entry('')).toThrow(TypeError)
  })
})
