/**
 * aicache for Fastify 5, as a plugin.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { aiCache } from '@aicache/fastify'
 *
 * const app = Fastify()
 * await app.register(aiCache, { upstream: 'https://api.openai.com/v1' })
 * ```
 */
import { AiCache, AiCacheError, type AiCacheOptions, createAiCache, type ResponseMeta } from '@aicache/core'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'
import fp from 'fastify-plugin'
import { gatewayRoutes } from './gateway-routes.js'
import { type AiCacheRouteOptions, metas, wrapRoutes } from './wrap-hooks.js'

export type { AiCacheOptions, AiCacheStats, ResponseMeta } from '@aicache/core'
export { AiCache, AiCacheError, createAiCache } from '@aicache/core'
export type { AiCacheRouteOptions } from './wrap-hooks.js'

/** Plugin options: engine options, or `engine` to share an engine from `createAiCache()`. */
export type FastifyAiCacheOptions = AiCacheOptions & { engine?: AiCache }

declare module 'fastify' {
  interface FastifyInstance {
    /** The engine of the aicache plugin: `stats()`, `invalidate()`. */
    aiCache: AiCache
  }
  interface FastifyContextConfig {
    /**
     * `false` leaves this route uncached. `true` or an object (its namespace,
     * TTL or rate limits) caches every JSON `POST` of this route, whatever
     * its shape; without it, a route is cached only for unmistakable LLM
     * calls (a string `model` with `messages`, `prompt` or `input`).
     */
    aiCache?: boolean | AiCacheRouteOptions
  }
}

/**
 * Wrap mode: model and usage for the response the handler is about to send,
 * when its body does not carry an OpenAI `usage` itself.
 *
 * @example
 * ```ts
 * app.post('/chat', async (request, reply) => {
 *   const answer = await callModel(request.body)
 *   setCacheMeta(reply, { model: 'gpt-4o-mini', usage: { inputTokens: 12, outputTokens: 40 } })
 *   return { answer: answer.text }
 * })
 * ```
 */
export function setCacheMeta(reply: FastifyReply, meta: ResponseMeta): void {
  metas.set(reply, meta)
}

const plugin: FastifyPluginAsync<FastifyAiCacheOptions> = async (fastify, options) => {
  const { engine: shared, ...engineOptions } = options
  // A brand, not instanceof: the engine may come from the other module build (ESM or CommonJS).
  if (shared !== undefined && !AiCache.isInstance(shared)) {
    throw new AiCacheError('invalid_option', "Option 'engine' must be an engine made by createAiCache()", { param: 'engine' })
  }
  const engine = shared ?? createAiCache(engineOptions)
  fastify.decorate('aiCache', engine)
  if (shared === undefined) fastify.addHook('onClose', () => engine.close())
  if (engine.options.mode === 'wrap') return wrapRoutes(fastify, engine)
  await fastify.register(gatewayRoutes(engine), { prefix: (options as { prefix?: string }).prefix })
}

/**
 * The Fastify plugin. With `upstream` it answers the OpenAI-compatible
 * routes under `/v1` (proxy mode); without, it caches the LLM calls (a
 * string `model` with `messages`, `prompt` or `input`) that the routes of the
 * context it is registered in receive (wrap mode). A route with
 * `config: { aiCache: true }` (or its settings) has every JSON `POST`
 * cached; `config: { aiCache: false }` opts out. The engine is `fastify.aiCache`.
 */
export const aiCache = fp(plugin, { name: '@aicache/fastify', fastify: '5.x' })
