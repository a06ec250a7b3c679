import type { AddressInfo } from 'node:net'
import { createServer, type Server, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { createAiCache } from '@aicache/express'
import { afterEach, describe, expect, it } from 'vitest'
import { createGatewayApp } from './app.js'

/**
 * An upstream written on raw sockets, to misbehave where an HTTP server
 * library would not: after its first answer it sends a second, unasked-for
 * response on the same connection.
 */
async function startOverlongUpstream(): Promise<{ port: number; connections: Socket[]; extraSent: Promise<void>; close(): Promise<void> }> {
  const connections: Socket[] = []
  let answered = 0
  let markExtraSent: () => void = () => {}
  const extraSent = new Promise<void>((resolve) => (markExtraSent = resolve))
  const server: Server = createServer((socket) => {
    connections.push(socket)
    socket.on('error', () => {})
    let buffered = ''
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1')
      while (buffered.includes('\r\n\r\n')) {
        buffered = buffered.slice(buffered.indexOf('\r\n\r\n') + 4)
        const body = JSON.stringify({ call: ++answered })
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`)
        if (answered === 1) {
          const poisoned = '{"poisoned":true}'
          setTimeout(() => {
            socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${poisoned.length}\r\n\r\n${poisoned}`)
            markExtraSent()
          }, 30)
        }
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as AddressInfo).port,
    connections,
    extraSent,
    close: () => {
      for (const socket of connections) socket.destroy()
      return new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

describe('gateway: an upstream connection whose framing is in doubt', () => {
  const closers: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.all(closers.splice(0).map((close) => close()))
  })

  it('is closed, not reused, after the upstream sent more than its response declared', async () => {
    const upstream = await startOverlongUpstream()
    closers.push(upstream.close)
    const engine = createAiCache({ upstream: `http://127.0.0.1:${upstream.port}/v1` })
    const server = createGatewayApp(engine, undefined).listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    closers.push(async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      await engine.close()
    })
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    expect(await (await fetch(`${url}/v1/models`)).json()).toEqual({ call: 1 })
    await upstream.extraSent
    // Give the stray bytes time to reach the gateway's idle connection.
    await sleep(100)
    expect(await (await fetch(`${url}/v1/models`)).json()).toEqual({ call: 2 })
    expect(upstream.connections).toHaveLength(2)
    expect(upstream.connections[0]?.destroyed || upstream.connections[0]?.readableEnded).toBe(true)
  })
})
