import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import { aiCache } from '@aicache/koa'
import Koa from 'koa'
import OpenAI from 'openai'

/** Where the app's own model calls go. */
export interface AppOptions {
  /** OpenAI-compatible base URL, e.g. `https://api.openai.com/v1`. */
  modelBaseUrl: string
  /** @default 'demo' (the demo upstream takes any key) */
  apiKey?: string
}

const products = [
  { id: 1, name: 'Espresso machine', priceUsd: 249 },
  { id: 2, name: 'Burr grinder', priceUsd: 129 },
  { id: 3, name: 'Milk frother', priceUsd: 39 },
]

/** A small shop: health check, product list, and a shopping assistant backed by an LLM. */
export function createApp(options: AppOptions): Koa {
  const openai = new OpenAI({ baseURL: options.modelBaseUrl, apiKey: options.apiKey ?? 'demo', maxRetries: 1 })
  const app = new Koa()

  // Proxy mode, for apps whose clients call the OpenAI API through this server:
  //   app.use(aiCache({ upstream: 'https://api.openai.com/v1' }))   // answers /v1/*

  const router = new Router()
  router.get('/health', (ctx) => {
    ctx.body = { ok: true }
  })
  router.get('/products', (ctx) => {
    ctx.body = products
  })
  // aicache, wrap mode, on this route: identical POST /chat bodies are answered
  // from the cache; every other route runs untouched. (`app.use(aiCache())`
  // would cache only bodies that are plainly LLM calls, with a `model`.)
  router.post('/chat', aiCache({ ttlMs: 10 * 60_000 }), bodyParser(), async (ctx) => {
    const { prompt } = ctx.request.body as { prompt?: unknown }
    if (typeof prompt !== 'string' || prompt === '') {
      ctx.status = 400
      ctx.body = { error: "'prompt' must be a non-empty string" }
      return
    }
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: `You help customers choose among: ${products.map((p) => p.name).join(', ')}.` },
        { role: 'user', content: prompt },
      ],
    })
    // The OpenAI `usage` in the body tells aicache what a hit saves.
    ctx.body = { answer: completion.choices[0]?.message.content, usage: completion.usage }
  })
  app.use(router.routes()).use(router.allowedMethods())
  return app
}
