import { createLocalEmbedder } from '@aicache/embeddings-local'
import { type SemanticOptions, upstreamEmbedder } from '@aicache/core'
import type { GatewaySemantic } from './config.js'

/** The engine's `semantic` option, and how to stop what it started (the offline embedder's worker thread). */
export interface GatewaySemanticOption {
  option: SemanticOptions
  /** What the start-up line says. */
  description: string
  close(): Promise<void>
}

/**
 * The `semantic` option of `AICACHE_SEMANTIC`: `local` starts the offline
 * embedder and loads its model now, so the first lookup does not wait for
 * it; `upstream` embeds through the upstream's `/v1/embeddings`, cached by
 * the gateway itself (docs/semantic-cache.md).
 */
export async function semanticOption(config: GatewaySemantic | undefined): Promise<GatewaySemanticOption | undefined> {
  if (config === undefined) return undefined
  const threshold = config.threshold === undefined ? {} : { threshold: config.threshold }
  if (config.embedder === 'upstream') {
    return {
      option: { embed: upstreamEmbedder({ model: config.model }), ...threshold },
      description: `upstream embeddings (${config.model})`,
      close: async () => {},
    }
  }
  const embedder = createLocalEmbedder({ preload: true })
  await embedder.ready()
  return { option: { embed: embedder, ...threshold }, description: `offline embedder (${embedder.id})`, close: () => embedder.close() }
}
