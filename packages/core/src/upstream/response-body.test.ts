import { Readable } from 'node:stream'
import { describe, expect, it, vi } from 'vitest'
import { readAll } from './headers.js'
import { discardBody, peekBody, whenBodyDone } from './response-body.js'

async function* parts(...chunks: string[]): AsyncGenerator<Uint8Array> {
  for (const chunk of chunks) yield Buffer.from(chunk)
}

describe('peekBody', () => {
  it('reads the head and still yields the whole body', async () => {
    const peeked = await peekBody(parts('abc', 'def', 'ghi'), 4)
    expect(peeked.head.toString()).toBe('abcd')
    expect((await readAll(peeked.body)).toString()).toBe('abcdefghi')
  })
})

describe('whenBodyDone', () => {
  it('fires once when a Node stream is read to its end', async () => {
    const onDone = vi.fn()
    const body = whenBodyDone(Readable.from([Buffer.from('x')]), onDone)
    await readAll(body)
    await vi.waitFor(() => expect(onDone).toHaveBeenCalledTimes(1))
  })

  it('fires when a Node stream is destroyed unread', async () => {
    const onDone = vi.fn()
    const stream = Readable.from([Buffer.from('x')])
    whenBodyDone(stream, onDone)
    stream.destroy()
    await vi.waitFor(() => expect(onDone).toHaveBeenCalledTimes(1))
  })

  it('fires when the reader of another iterable stops early', async () => {
    const onDone = vi.fn()
    for await (const _chunk of whenBodyDone(parts('a', 'b'), onDone)) break
    expect(onDone).toHaveBeenCalledTimes(1)
  })
})

describe('discardBody', () => {
  it('reads a small body to its end in the background', async () => {
    const stream = Readable.from([Buffer.from('small error')])
    discardBody(stream)
    await vi.waitFor(() => expect(stream.readableEnded).toBe(true))
  })

  it('destroys a body larger than the limit', async () => {
    const stream = Readable.from(
      (function* () {
        while (true) yield Buffer.alloc(1_024)
      })(),
    )
    discardBody(stream, 4_096)
    await vi.waitFor(() => expect(stream.destroyed).toBe(true))
  })
})
