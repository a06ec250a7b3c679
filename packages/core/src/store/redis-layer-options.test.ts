import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../options.js'
import { redisAclRules } from './redis-acl.js'
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
    ['onWarning', { onWarning: 'log' as never }],
    ['infoIntervalMs', { infoIntervalMs: -1 }],
    ['infoIntervalMs', { infoIntervalMs: Number.NaN }],
    ['tls.ca', { redis: 'rediss://h:6380', tls: { ca: 42 as never } }],
    ['tls.key', { redis: 'rediss://h:6380', tls: { cert: 'PEM' } }],
    ['tls.pfx', { redis: 'rediss://h:6380', tls: { pfx: 'x' } as never }],
    ['redis', { tls: { ca: 'PEM' } }],
    ['name', { name: 'mymaster' }],
    ['password', { password: 'secret' }],
  ])('refuses a bad %s, naming it', (param, override) => {
    const error = thrown({ redis: 'redis://127.0.0.1:6379', ...override })
    expect(error.code).toBe('invalid_option')
    expect(error.param).toBe(param)
    expect(error.message).toContain(param)
  })
})

describe('resolveRedisLayerOptions with sentinels', () => {
  const sentinels = [
    { host: '10.0.0.1', port: 26379 },
    { host: 'sentinel-2', port: 26379 },
  ]

  it('takes sentinels and a master name instead of a URL', () => {
    const options = resolveRedisLayerOptions({ sentinels, name: 'mymaster', password: 'p', infoIntervalMs: 0 })
    expect(options).toMatchObject({ redis: undefined, sentinels, name: 'mymaster', password: 'p', infoIntervalMs: 0 })
    expect(Object.isFrozen(options.sentinels)).toBe(true)
  })

  it.each<[string, RedisLayerOptions]>([
    ['redis', {}],
    ['redis', { redis: 'redis://h:6379', sentinels, name: 'mymaster' }],
    ['name', { sentinels }],
    ['name', { sentinels, name: '' }],
    ['sentinels', { sentinels: [], name: 'mymaster' }],
    ['sentinels[0].port', { sentinels: [{ host: 'h', port: 0 }], name: 'mymaster' }],
    [
      'sentinels[1].host',
      {
        sentinels: [
          { host: 'h', port: 1 },
          { host: '', port: 2 },
        ],
        name: 'mymaster',
      },
    ],
    ['sentinels[0].tls', { sentinels: [{ host: 'h', port: 1, tls: true } as never], name: 'mymaster' }],
  ])('refuses a bad %s, naming it', (param, options) => {
    const error = thrown(options)
    expect(error.param).toBe(param)
  })

  it('names nested options under redis. when the engine resolves them', () => {
    expect(() => resolveOptions({ redis: { sentinels, name: '' } })).toThrow(/'redis\.name'/)
    expect(resolveOptions({ redis: { sentinels, name: 'mymaster' } }).redis).toMatchObject({ sentinels, name: 'mymaster' })
  })
})

describe('redisAclRules', () => {
  it('allows the keys and channels under the prefix, the rate limiter keys, and the listed commands only', () => {
    expect(redisAclRules()).toMatch(/^~aicache:\* &aicache:\* -@all \+get /)
    expect(redisAclRules('support')).toMatch(/^~support:\* ~aicache:rate:\* &support:\* -@all /)
  })

  it('is the line docs/redis.md gives', () => {
    const docs = readFileSync(new URL('../../../../docs/redis.md', import.meta.url), 'utf8')
    expect(docs).toContain(`ACL SETUSER aicache on >CHANGE-ME resetchannels ${redisAclRules()}`)
    expect(docs).toContain(`user aicache on >CHANGE-ME resetchannels ${redisAclRules()}`)
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
