import type { ClientRequest } from 'node:http'

/** Resolves when the request can take more, or is gone. */
function drained(request: ClientRequest): Promise<void> {
  if (request.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      request.off('drain', done)
      request.off('close', done)
      resolve()
    }
    request.on('drain', done)
    request.on('close', done)
  })
}

/**
 * Sends a streamed body on an upstream request whose framing is already
 * set: with `expectedBytes` (the `Content-Length` it declared) exactly that
 * many bytes or none at all, chunked otherwise. A source that breaks off,
 * or would send more or fewer bytes than declared, destroys the request
 * instead of ending it, so the upstream connection is never reused with a
 * body of uncertain length (docs/security.md).
 *
 * The source is read with its own iterator and never returned: leaving a
 * `for await` early would destroy an incoming request, and with it the
 * client's connection before it gets its answer.
 */
export async function sendBody(source: AsyncIterable<Uint8Array>, request: ClientRequest, expectedBytes: number | undefined): Promise<void> {
  const iterator = source[Symbol.asyncIterator]()
  let sentBytes = 0
  try {
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      if (request.destroyed) return
      sentBytes += next.value.byteLength
      if (expectedBytes !== undefined && sentBytes > expectedBytes) throw new Error('The request body is longer than its Content-Length.')
      if (!request.write(next.value)) await drained(request)
    }
    if (expectedBytes !== undefined && sentBytes !== expectedBytes) throw new Error('The request body is shorter than its Content-Length.')
    request.end()
  } catch (error) {
    request.destroy(error as Error)
  }
}
