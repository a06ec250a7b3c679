import { createServer, type RequestListener } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * Serves `listener` on a free loopback port and prints `listening <port>`,
 * the line the runner waits for. Stops on SIGTERM and SIGINT.
 */
export async function serve(listener: RequestListener): Promise<void> {
  const server = createServer(listener)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    server.close(() => process.exit(0))
    server.closeAllConnections()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  // Printed last, once signals are handled, so a runner that stops the server right away gets a clean exit.
  console.log(`listening ${(server.address() as AddressInfo).port}`)
}
