import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from './config.js'

describe('loadConfig', () => {
  it('defaults to port 8787 on loopback, demo upstream, no admin routes', () => {
    expect(loadConfig({})).toEqual({ port: 8787, host: '127.0.0.1', adminToken: undefined, cache: {} })
  })

  it('maps every environment variable onto its engine option', () => {
    const config = loadConfig({
      PORT: '9000',
      AICACHE_UPSTREAM_URL: 'https://api.openai.com/v1',
      AICACHE_UPSTREAM_API_KEY: 'sk-up',
      AICACHE_UPSTREAM_TIMEOUT_MS: '30000',
      AICACHE_TTL_MS: '600000',
      AICACHE_MAX_BYTES: '1048576',
      AICACHE_MAX_BODY_BYTES: '2048',
      AICACHE_NAMESPACE: 'support',
      AICACHE_SCOPE: 'shared',
      AICACHE_NORMALIZE: 'whitespace, case',
      AICACHE_ADMIN_TOKEN: 'admin-secret',
      REDIS_URL: 'redis://127.0.0.1:6379',
    })
    expect(config).toEqual({
      port: 9000,
      host: '127.0.0.1',
      adminToken: 'admin-secret',
      cache: {
        // Anthropic's own API beside the OpenAI-compatible upstream, which keeps its key to itself.
        upstream: { openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com/v1' },
        upstreamApiKey: { openai: 'sk-up' },
        upstreamTimeoutMs: 30000,
        ttlMs: 600000,
        maxBytes: 1048576,
        maxBodyBytes: 2048,
        namespace: 'support',
        scope: 'shared',
        normalize: { whitespace: true, case: true },
        redis: 'redis://127.0.0.1:6379',
      },
    })
  })

  it('sends Anthropic calls to AICACHE_ANTHROPIC_URL with AICACHE_ANTHROPIC_API_KEY, beside the OpenAI-compatible upstream', () => {
    const both = loadConfig({
      AICACHE_UPSTREAM_URL: 'https://api.openai.com/v1',
      AICACHE_UPSTREAM_API_KEY: 'sk-up',
      AICACHE_ANTHROPIC_URL: 'https://anthropic.internal/v1',
      AICACHE_ANTHROPIC_API_KEY: 'sk-ant-up',
    })
    expect(both.cache.upstream).toEqual({ openai: 'https://api.openai.com/v1', anthropic: 'https://anthropic.internal/v1' })
    expect(both.cache.upstreamApiKey).toEqual({ openai: 'sk-up', anthropic: 'sk-ant-up' })
    // Anthropic alone: OpenAI calls are not proxied.
    expect(loadConfig({ AICACHE_ANTHROPIC_URL: 'https://api.anthropic.com/v1' }).cache.upstream).toEqual({ anthropic: 'https://api.anthropic.com/v1' })
  })

  it('sets nested rate-limit and Redis options beside what the file set', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aicache-')), 'config.json')
    writeFileSync(path, JSON.stringify({ rateLimit: { defaultMaxTokens: 256 } }))
    const config = loadConfig({
      AICACHE_CONFIG: path,
      AICACHE_BODY_MEMO_BYTES: '0',
      AICACHE_RATE_LIMIT_REQUESTS_PER_MINUTE: '60',
      AICACHE_RATE_LIMIT_TOKENS_PER_MINUTE: '90000',
      AICACHE_RATE_LIMIT_IDENTITY: 'header:x-authenticated-user',
      REDIS_URL: 'redis://127.0.0.1:6379',
      AICACHE_REDIS_LOCAL_TTL_MS: '5000',
      AICACHE_REDIS_MAX_NAMESPACES: '200',
    })
    expect(config.cache).toEqual({
      bodyMemoBytes: 0,
      rateLimit: { defaultMaxTokens: 256, requestsPerMinute: 60, tokensPerMinute: 90000, identity: { header: 'x-authenticated-user' } },
      redis: { redis: 'redis://127.0.0.1:6379', localTtlMs: 5000, maxNamespaces: 200 },
    })
    expect(loadConfig({ AICACHE_RATE_LIMIT_IDENTITY: 'address' }).cache.rateLimit).toEqual({ identity: 'address' })
  })

  it('turns the warm-up on with AICACHE_WARM_UP and sets its bounds beside it; false wins over bounds', () => {
    expect(loadConfig({ AICACHE_WARM_UP: 'true' }).cache.warmUp).toBe(true)
    const bounded = loadConfig({
      AICACHE_WARM_UP: '1',
      AICACHE_WARM_UP_NAMESPACES: 'default, docs',
      AICACHE_WARM_UP_MAX_ENTRIES: '500',
      AICACHE_WARM_UP_MAX_BYTES: '8388608',
      AICACHE_WARM_UP_TIMEOUT_MS: '3000',
    })
    expect(bounded.cache.warmUp).toEqual({ namespaces: ['default', 'docs'], maxEntries: 500, maxBytes: 8388608, timeoutMs: 3000 })
    expect(loadConfig({ AICACHE_WARM_UP: 'false', AICACHE_WARM_UP_MAX_ENTRIES: '500' }).cache.warmUp).toBe(false)
    expect(() => loadConfig({ AICACHE_WARM_UP: 'yes' })).toThrow(/AICACHE_WARM_UP must be 'true' or 'false'/)
  })

  it('reads Redis Sentinel from AICACHE_REDIS_SENTINELS and AICACHE_REDIS_SENTINEL_NAME', () => {
    const config = loadConfig({
      AICACHE_REDIS_SENTINELS: 'sentinel-1:26379, 10.0.0.2:26380,[::1]:26381',
      AICACHE_REDIS_SENTINEL_NAME: 'mymaster',
      AICACHE_REDIS_INFO_INTERVAL_MS: '0',
    })
    expect(config.cache.redis).toEqual({
      sentinels: [
        { host: 'sentinel-1', port: 26379 },
        { host: '10.0.0.2', port: 26380 },
        { host: '::1', port: 26381 },
      ],
      name: 'mymaster',
      infoIntervalMs: 0,
    })
    expect(() => loadConfig({ AICACHE_REDIS_SENTINELS: 'sentinel-1' })).toThrow(/AICACHE_REDIS_SENTINELS.*host:port/)
    expect(() => loadConfig({ AICACHE_REDIS_SENTINEL_NAME: 'mymaster' })).toThrow(/AICACHE_REDIS_SENTINEL_NAME needs a Redis URL/)
  })

  it('reads the freshness windows in seconds and refresh-ahead in its own units', () => {
    const config = loadConfig({
      AICACHE_STALE_IF_ERROR: '86400',
      AICACHE_STALE_WHILE_REVALIDATE: '60',
      AICACHE_REFRESH_AHEAD_MIN_HITS_PER_MINUTE: '120',
      AICACHE_REFRESH_AHEAD_LEAD_MS: '15000',
    })
    expect(config.cache).toEqual({
      staleIfErrorMs: 86_400_000,
      staleWhileRevalidateMs: 60_000,
      refreshAhead: { minHitsPerMinute: 120, leadMs: 15_000 },
    })
    expect(() => loadConfig({ AICACHE_STALE_IF_ERROR: 'a day' })).toThrow('AICACHE_STALE_IF_ERROR')
  })

  it('prefers AICACHE_REDIS_URL over REDIS_URL', () => {
    expect(loadConfig({ REDIS_URL: 'redis://a:1', AICACHE_REDIS_URL: 'redis://b:2' }).cache.redis).toBe('redis://b:2')
  })

  it('reads a JSON config file, with the environment winning over it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'aicache-')), 'config.json')
    writeFileSync(path, JSON.stringify({ port: 7000, ttlMs: 1000, namespace: 'file', adminToken: 'from-file' }))
    const config = loadConfig({ AICACHE_CONFIG: path, AICACHE_NAMESPACE: 'env' })
    expect(config).toMatchObject({ port: 7000, adminToken: 'from-file', cache: { ttlMs: 1000, namespace: 'env' } })
  })

  it.each([
    ['AICACHE_TTL_MS', 'an hour'],
    ['AICACHE_SCOPE', 'everyone'],
    ['AICACHE_NORMALIZE', 'unicode'],
    ['PORT', '-1'],
    ['AICACHE_RATE_LIMIT_IDENTITY', 'credential'],
    ['AICACHE_REDIS_LOCAL_TTL_MS', '5000'],
  ])('names %s when its value is malformed', (variable, value) => {
    expect(() => loadConfig({ [variable]: value })).toThrow(variable)
  })

  it('names the config file when it cannot be read', () => {
    expect(() => loadConfig({ AICACHE_CONFIG: '/nonexistent/aicache.json' })).toThrow(/AICACHE_CONFIG/)
  })
})
