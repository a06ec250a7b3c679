import type { AddressInfo } from 'node:net'
import { createAiCache } from '@aicache/express'
import { describeFramingAttacks, describePathAttacks } from '@aicache/testkit/conformance'
import { createGatewayApp } from './app.js'

async function startGateway(options: { upstream: string; upstreamApiKey?: string }) {
  const engine = createAiCache(options)
  const server = createGatewayApp(engine, undefined).listen(0, '127.0.0.1')
  await new Promise((resolve) => server.once('listening', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await engine.close()
    },
  }
}

// Every method with every body form, against the gateway `pnpm start` runs.
describeFramingAttacks('gateway', startGateway)
describePathAttacks('gateway', startGateway)
