import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { nodeExchange, sendNodeOutcome } from '../../src/exchange/node.js'
import { createAiCache } from '../../src/index.js'
import type { AiCacheOptions } from '../../src/options.js'
import type { AiCache } from '../../src/engine/engine.js'

/** A bare node:http gateway on the core's node helpers, for tests: no framework at all. */
export async function startTestGateway(options: AiCacheOptions): Promise<{ url: string; cache: AiCache; close(): Promise<void> }> {
  const cache = createAiCache(options)
  const server = http.createServer((req, res) => {
    const url = req.url ?? '/'
    void cache.handle(nodeExchange(req, res, { path: url.split('?')[0]!, url })).then((outcome) => {
      if (outcome.type !== 'next') return sendNodeOutcome(res, outcome)
      res.writeHead(404).end()
    })
  })
  server.listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cache,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await cache.close()
    },
  }
}
