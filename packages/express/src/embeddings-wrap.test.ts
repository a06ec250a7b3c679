import { startFakeUpstream, type FakeUpstream } from '@aicache/testkit'
import express from 'express'
import OpenAI from 'openai'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aiCache } from './index.js'
import { listen } from '../test/support/test-apps.js'

/**
 * Wrap mode on an app's own `/v1/embeddings` route: the handler answers
 * whole requests (it embeds through the fake upstream), and each vector of
 * its answers is kept on its own, so a request whose inputs were all
 * embedded before, in any batches, is answered without the handler.
 */
describe('express wrap mode, per-input embeddings', () => {
  let fake: FakeUpstream
  let url: string
  let close: () => Promise<void>
  const handled: unknown[] = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    const upstream = new OpenAI({ baseURL: fake.url, apiKey: 'sk-app', maxRetries: 0 })
    const app = express()
    app.use(aiCache())
    app.post('/v1/embeddings', express.json(), async (req, res) => {
      handled.push(req.body.input)
      res.json(await upstream.embeddings.create(req.body))
    })
    const running = await listen(app)
    url = running.url
    close = running.close
  })
  afterAll(async () => {
    await close()
    await fake.close()
  })

  it('answers a batch of inputs embedded before from their entries, without the handler', async () => {
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const model = 'text-embedding-3-small'
    const first = await client.embeddings.create({ model, input: ['lost card', 'exchange rate'] })
    await client.embeddings.create({ model, input: ['refund'] })
    const mixed = await client.embeddings.create({ model, input: ['refund', 'lost card'] }).withResponse()
    expect(mixed.response.headers.get('cache-status')).toMatch(/^aicache; hit; ttl=\d+; detail=l1; hit-inputs=2$/)
    expect(mixed.data.data[1]?.embedding).toEqual(first.data[0]?.embedding)
    expect(handled).toEqual([['lost card', 'exchange rate'], ['refund']])
    const direct = new OpenAI({ baseURL: fake.url, apiKey: 'sk-a', maxRetries: 0 })
    expect(mixed.data.data).toEqual((await direct.embeddings.create({ model, input: ['refund', 'lost card'] })).data)
  })
})
