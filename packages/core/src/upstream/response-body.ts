/** A response body read in part: the bytes read, and the whole body again. */
export interface PeekedBody {
  /** The first bytes, up to the limit asked for (or all of a shorter body). */
  head: Buffer
  /** Yields `head` and then the rest, so the caller still reads the whole body. */
  body: AsyncIterable<Uint8Array>
}

/**
 * Reads up to `maxBytes` of a body without losing it. The iterator is driven
 * by hand: leaving a `for await` early would destroy a Node stream.
 */
export async function peekBody(body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<PeekedBody> {
  const iterator = body[Symbol.asyncIterator]()
  const chunks: Buffer[] = []
  let length = 0
  let done = false
  while (length < maxBytes) {
    const next = await iterator.next()
    if (next.done) {
      done = true
      break
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value)
    chunks.push(chunk)
    length += chunk.length
  }
  async function* replay(): AsyncGenerator<Uint8Array> {
    try {
      yield* chunks
      if (done) return
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value
    } finally {
      // A reader that stops early must still release the underlying stream.
      if (!done) await iterator.return?.()
    }
  }
  return { head: Buffer.concat(chunks).subarray(0, maxBytes), body: replay() }
}

interface Closable {
  destroy?: () => void
  once?: (event: 'close', listener: () => void) => unknown
}

/**
 * Throws a body away without delaying the caller. A small error body is read
 * to its end in the background, so a keep-alive connection goes back to the
 * pool; a body larger than `maxBytes` is destroyed instead.
 *
 * @param maxBytes @default 65_536
 */
export function discardBody(body: AsyncIterable<Uint8Array>, maxBytes = 65_536): void {
  void (async () => {
    let length = 0
    const iterator = body[Symbol.asyncIterator]()
    try {
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
        length += next.value.byteLength
        if (length > maxBytes) {
          await iterator.return?.()
          ;(body as Closable).destroy?.()
          return
        }
      }
    } catch {
      // A body that fails while being thrown away has nothing left to tell.
    }
  })()
}

/**
 * Calls `onDone` once when the body has been read to its end, failed, or was
 * destroyed or abandoned by its reader. A Node stream reports that with its
 * `close` event, which also fires when it is destroyed unread; any other
 * iterable is wrapped, and counts as done when its iteration stops.
 */
export function whenBodyDone(body: AsyncIterable<Uint8Array>, onDone: () => void): AsyncIterable<Uint8Array> {
  let called = false
  const once = () => {
    if (called) return
    called = true
    onDone()
  }
  const stream = body as Closable & { closed?: boolean }
  if (typeof stream.once === 'function' && typeof stream.destroy === 'function') {
    if (stream.closed === true) once()
    else stream.once('close', once)
    return body
  }
  return (async function* wrapped() {
    try {
      yield* body
    } finally {
      once()
    }
  })()
}
