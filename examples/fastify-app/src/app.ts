import { aiCache } from '@aicache/fastify'
import Fastify, { type FastifyInstance } from 'fastify'
import OpenAI from 'openai'

/** Where the app's own model calls go. */
export interface AppOptions {
  /** OpenAI-compatible base URL, e.g. `https://api.openai.com/v1`. */
  modelBaseUrl: string
  /** @default 'demo' (the demo upstream takes any key) */
  apiKey?: string
  /** @default false */
  logger?: boolean
}

const products = [
  { id: 1, name: 'Espresso machine', priceUsd: 249 },
  { id: 2, name: 'Burr grinder', priceUsd: 129 },
  { id: 3, name: 'Milk frother', priceUsd: 39 },
]

/** A small shop: health check, product list, and a shopping assistant backed by an LLM. */
export function createApp(options: AppOptions): FastifyInstance {
  const openai = new OpenAI({ baseURL: options.modelBaseUrl, apiKey: options.apiKey ?? 'demo', maxRetries: 1 })
  const app = Fastify({ logger: options.logger ?? false })

  // aicache, wrap mode: POSTs that are plainly LLM calls (a `model` with
  // `messages`, `prompt` or `input`) are answered from the cache, and so are
  // the POSTs of routes with config: { aiCache: true } (here POST /chat),
  // whatever their shape; other routes run as usual.
  app.register(aiCache, { ttlMs: 10 * 60_000 })
  // Proxy mode instead, for apps whose clients call the OpenAI API through this server:
  //   app.register(aiCache, { upstream: 'https://api.openai.com/v1' })   // answers /v1/*

  app.get('/health', async () => ({ ok: true }))
  app.get('/products', async () => products)
  app.post<{ Body: { prompt: string } }>(
    '/chat',
    {
      config: { aiCache: true },
      schema: { body: { type: 'object', required: ['prompt'], properties: { prompt: { type: 'string', minLength: 1 } } } },
    },
    async (request) => {
      const completion = await openai.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [
          { role: 'system', content: `You help customers choose among: ${products.map((p) => p.name).join(', ')}.` },
          { role: 'user', content: request.body.prompt },
        ],
      })
      // The OpenAI `usage` in the body tells aicache what a hit saves.
      return { answer: completion.choices[0]?.message.content, usage: completion.usage }
    },
  )
  return app
}
