import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createOpenAI } from '@ai-sdk/openai'
import { createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { OpenAIEmbeddings } from '@langchain/openai'
import { embedMany } from 'ai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

/**
 * The embeddings clients of the two frameworks, through the gateway (proxy
 * mode) and the engine's `fetch` (client mode): a re-embedded batch with
 * changed documents sends only those upstream, and the vectors are the
 * upstream's own, in order.
 */
const documents = [
  'I still have not received my new card, I ordered over 2 weeks ago.',
  'How do I locate my card?',
  'I have a new card, how do I link it to the app?',
  'Why is my card payment still pending?',
  'Can I change my PIN at any cash machine?',
  'My top-up did not go through, what happened?',
]
// Banking77 (PolyAI, CC BY 4.0) test-split queries.
const revised = [...documents.slice(0, 4), 'Can I change my PIN at a cash machine abroad?', documents[5]!]

describe('embeddings clients against the per-input cache', () => {
  let fake: FakeUpstream
  let server: Server
  let baseURL: string
  beforeAll(async () => {
    fake = await startFakeUpstream()
    server = createGatewayApp(createAiCache({ upstream: fake.url }), undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
  })
  afterEach(() => fake.reset())
  afterAll(async () => {
    server.closeAllConnections()
    server.close()
    await fake.close()
  })

  const sentInputs = () => fake.calls.map((call) => (call.body as { input: unknown }).input)

  it("the AI SDK's embedMany through the gateway sends only the changed document and gets the upstream's vectors", async () => {
    const model = createOpenAI({ baseURL, apiKey: 'sk-ai-sdk' }).embedding('text-embedding-3-small')
    const first = await embedMany({ model, values: documents, maxRetries: 0 })
    const second = await embedMany({ model, values: revised, maxRetries: 0 })
    expect(sentInputs()).toEqual([documents, ['Can I change my PIN at a cash machine abroad?']])
    const direct = await embedMany({ model: createOpenAI({ baseURL: fake.url, apiKey: 'sk-ai-sdk' }).embedding('text-embedding-3-small'), values: revised })
    expect(second.embeddings).toEqual(direct.embeddings)
    expect(second.embeddings[0]).toEqual(first.embeddings[0])
    // What the upstream charged for the one document it was sent.
    expect(second.usage.tokens).toBeLessThan(first.usage.tokens)
    expect(second.usage.tokens).toBeGreaterThan(0)
  })

  it("the AI SDK's embedMany in client mode (cache.fetch)", async () => {
    const cache = createAiCache({})
    const model = createOpenAI({ baseURL: fake.url, apiKey: 'sk-ai-sdk', fetch: cache.fetch }).textEmbeddingModel('text-embedding-3-small')
    await embedMany({ model, values: documents.slice(0, 3), maxRetries: 0 })
    const again = await embedMany({ model, values: documents.slice(1, 4), maxRetries: 0 })
    expect(sentInputs()).toEqual([documents.slice(0, 3), [documents[3]]])
    expect(cache.stats().embeddings).toMatchObject({ inputsFromCache: 2, inputsSent: 4 })
    const direct = await embedMany({
      model: createOpenAI({ baseURL: fake.url, apiKey: 'sk-ai-sdk' }).embedding('text-embedding-3-small'),
      values: documents.slice(1, 4),
    })
    expect(again.embeddings).toEqual(direct.embeddings)
  })

  it("LangChain's OpenAIEmbeddings.embedDocuments (base64 by default) sends only the changed document", async () => {
    const embeddings = new OpenAIEmbeddings({ model: 'text-embedding-3-small', apiKey: 'sk-langchain', maxRetries: 0, configuration: { baseURL } })
    const first = await embeddings.embedDocuments(documents)
    const second = await embeddings.embedDocuments(revised)
    expect(sentInputs()).toEqual([documents, ['Can I change my PIN at a cash machine abroad?']])
    const direct = new OpenAIEmbeddings({ model: 'text-embedding-3-small', apiKey: 'sk-langchain', maxRetries: 0, configuration: { baseURL: fake.url } })
    expect(second).toEqual(await direct.embedDocuments(revised))
    expect(second[1]).toEqual(first[1])
    const query = await embeddings.embedQuery(documents[2]!)
    expect(query).toEqual(first[2])
    // Two through the gateway, one direct; embedQuery was a hit.
    expect(fake.callCount('/v1/embeddings')).toBe(3)
  })
})
