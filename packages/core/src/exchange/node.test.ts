import { createServer, type Server } from 'node:http'
import { connect } from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { sendNodeOutcome } from './node.js'
import type { StreamOutcome } from './types.js'

let server: Server | undefined
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

/** A server answering every request with the stream outcome `make()` returns. */
async function serve(make: () => StreamOutcome): Promise<number> {
  server = createServer((_request, response) => void sendNodeOutcome(response, make()))
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

function eventStream(body: AsyncIterable<Uint8Array>): StreamOutcome {
  return { type: 'stream', status: 200, headers: { 'content-type': 'text/event-stream' }, body }
}

/** The bytes of the first read on a raw connection, and the connection. */
async function firstRead(port: number): Promise<{ text: string; socket: ReturnType<typeof connect> }> {
  const socket = connect(port, '127.0.0.1')
  socket.write('GET / HTTP/1.1\r\nhost: localhost\r\n\r\n')
  const chunk = await new Promise<Buffer>((resolve) => socket.once('data', resolve))
  return { text: chunk.toString('latin1'), socket }
}

describe('sendNodeOutcome with a stream', () => {
  it('sends the head alone when the first chunk is slow, so the client sees the answer begin', async () => {
    let release!: () => void
    const firstChunk = new Promise<void>((resolve) => (release = resolve))
    const port = await serve(() =>
      eventStream(
        (async function* () {
          await firstChunk
          yield Buffer.from('data: [DONE]\n\n')
        })(),
      ),
    )
    const { text, socket } = await firstRead(port)
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    expect(text).toContain('content-type: text/event-stream')
    expect(text).not.toContain('data:')
    const rest = new Promise<string>((resolve) => {
      let received = ''
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1')
        if (received.includes('0\r\n\r\n')) resolve(received)
      })
    })
    release()
    expect(await rest).toContain('data: [DONE]')
    socket.destroy()
  })

  it('ends the source when the client leaves mid-stream', async () => {
    let ended!: () => void
    const sourceEnded = new Promise<void>((resolve) => (ended = resolve))
    let yielded = 0
    const port = await serve(() =>
      eventStream(
        (async function* () {
          try {
            for (;;) {
              yielded += 1
              yield Buffer.from(`data: {"n":${yielded}}\n\n`)
              await new Promise((resolve) => setTimeout(resolve, 10))
            }
          } finally {
            ended()
          }
        })(),
      ),
    )
    const { socket } = await firstRead(port)
    socket.destroy()
    await sourceEnded
    const atEnd = yielded
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(yielded).toBe(atEnd)
  })

  it('destroys the response when the source throws, so the client sees a cut stream, not a clean end', async () => {
    const port = await serve(() =>
      eventStream(
        (async function* () {
          yield Buffer.from('data: {"n":1}\n\n')
          await new Promise((resolve) => setTimeout(resolve, 20))
          throw new Error('the upstream broke off')
        })(),
      ),
    )
    const { text, socket } = await firstRead(port)
    let received = text
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    await new Promise((resolve) => socket.once('close', resolve))
    expect(received).toContain('data: {"n":1}')
    // A chunked body ends with a zero-length chunk only when it ended cleanly.
    expect(received).not.toContain('\r\n0\r\n\r\n')
  })
})
