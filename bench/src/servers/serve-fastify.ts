import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'

/**
 * Fastify's counterpart of `serve`: listens on a free loopback port and
 * prints `listening <port>`, the line the runner waits for. Stops on SIGTERM
 * and SIGINT.
 */
export async function serveFastify(app: FastifyInstance): Promise<void> {
  await app.listen({ port: 0, host: '127.0.0.1' })
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    app.server.closeAllConnections()
    void app.close().then(() => process.exit(0))
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  console.log(`listening ${(app.server.address() as AddressInfo).port}`)
}
