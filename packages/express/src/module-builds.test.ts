import { createRequire } from 'node:module'
import { startFakeUpstream, type FakeUpstream } from '@aicache/testkit'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AiCache, AiCacheError, aiCache } from './index.js'
import { listen } from '../test/support/test-apps.js'

// This file is ESM; `require` loads the CommonJS build of the core, as an app
// that mixes both module systems does.
const commonJsCore = createRequire(import.meta.url)('@aicache/core') as typeof import('@aicache/core')

const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello from the other build' }] })

describe('an engine made by the CommonJS build of the core', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterAll(() => fake.close())

  it('is used by aiCache(engine), not taken for options', async () => {
    const engine = commonJsCore.createAiCache({ upstream: fake.url })
    // The two builds really are two classes here.
    expect(engine instanceof AiCache).toBe(false)
    const running = await listen(express().use(aiCache(engine)))
    try {
      const send = () =>
        fetch(`${running.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
          body: chat,
        })
      expect((await send()).status).toBe(200)
      const second = await send()
      expect(second.status).toBe(200)
      expect(second.headers.get('cache-status')).toMatch(/hit/)
      expect(engine.stats()).toMatchObject({ requests: 2, misses: 1, hits: { l1: 1 } })
      expect(fake.callCount()).toBe(1)
    } finally {
      await running.close()
      await engine.close()
    }
  })

  it('throws errors that AiCacheError.isInstance recognises', () => {
    const thrown = (() => {
      try {
        commonJsCore.createAiCache({ ttlMs: -1 })
      } catch (error) {
        return error
      }
    })()
    expect(thrown instanceof AiCacheError).toBe(false)
    expect(AiCacheError.isInstance(thrown)).toBe(true)
    expect(AiCacheError.isInstance(new Error('not ours'))).toBe(false)
  })
})
