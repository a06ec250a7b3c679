import { connect } from 'node:net'

/** One HTTP/1.1 response as read off a raw socket. */
export interface RawResponse {
  status: number
  /** Lower-case names; a repeated header keeps its last value. */
  headers: Record<string, string>
  body: string
}

/** Options of {@link rawExchange}. */
export interface RawExchangeOptions {
  /**
   * The method of each request whose response is awaited, in order: the
   * exchange ends once that many responses arrived (or the server closed).
   * A `HEAD` response has no body, whatever its headers say.
   * @default ['GET']
   */
  methods?: readonly string[]
  /** Ends the exchange, closing the socket, after this long even if responses are missing. @default 15000 */
  timeoutMs?: number
}

interface Parsed {
  response: RawResponse
  /** Bytes of the buffer this response used. */
  length: number
}

function parseHead(text: string): { status: number; headers: Record<string, string> } {
  const [statusLine = '', ...lines] = text.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(statusLine.split(' ')[1]), headers }
}

/** A chunked body at the start of `buffer`, or undefined while it is incomplete. */
function parseChunked(buffer: Buffer): { body: Buffer; length: number } | undefined {
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset)
    if (lineEnd < 0) return undefined
    const size = Number.parseInt(buffer.subarray(offset, lineEnd).toString('latin1'), 16)
    if (size === 0) {
      const end = buffer.indexOf('\r\n\r\n', lineEnd)
      return end < 0 ? undefined : { body: Buffer.concat(parts), length: end + 4 }
    }
    if (buffer.length < lineEnd + 2 + size + 2) return undefined
    parts.push(buffer.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
}

/** The response at the start of `buffer`; `closed` lets a body without framing end at the end of the buffer. */
function parseResponse(buffer: Buffer, method: string, closed: boolean): Parsed | undefined {
  const headEnd = buffer.indexOf('\r\n\r\n')
  if (headEnd < 0) return undefined
  const { status, headers } = parseHead(buffer.subarray(0, headEnd).toString('latin1'))
  const bodyStart = headEnd + 4
  const noBody = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)
  if (noBody) return { response: { status, headers, body: '' }, length: bodyStart }
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
    const chunked = parseChunked(buffer.subarray(bodyStart))
    if (chunked === undefined) return undefined
    return { response: { status, headers, body: chunked.body.toString('utf8') }, length: bodyStart + chunked.length }
  }
  if (headers['content-length'] !== undefined) {
    const end = bodyStart + Number(headers['content-length'])
    if (buffer.length < end) return undefined
    return { response: { status, headers, body: buffer.subarray(bodyStart, end).toString('utf8') }, length: end }
  }
  if (!closed) return undefined
  return { response: { status, headers, body: buffer.subarray(bodyStart).toString('utf8') }, length: buffer.length }
}

/**
 * Writes raw bytes on a new connection, exactly as given (HTTP clients
 * normalise paths and framing, attackers do not), and reads the responses
 * that come back. Resolves with the responses parsed when as many as asked
 * for arrived, the server closed the connection, or the time ran out; the
 * socket is closed then.
 *
 * @example
 * ```ts
 * const [response] = await rawExchange(port, 'GET /v1/../admin HTTP/1.1\r\nHost: x\r\n\r\n')
 * ```
 */
export function rawExchange(port: number, bytes: string | Buffer | readonly (string | Buffer)[], options: RawExchangeOptions = {}): Promise<RawResponse[]> {
  const methods = options.methods ?? ['GET']
  const writes = Array.isArray(bytes) ? bytes : [bytes as string | Buffer]
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const responses: RawResponse[] = []
    let buffer = Buffer.alloc(0)
    let settled = false
    const finish = () => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(responses)
    }
    const timer = setTimeout(finish, options.timeoutMs ?? 15_000)
    const parse = (closed: boolean) => {
      while (responses.length < methods.length) {
        const parsed = parseResponse(buffer, methods[responses.length]!, closed)
        if (parsed === undefined) break
        responses.push(parsed.response)
        buffer = buffer.subarray(parsed.length)
      }
      if (responses.length >= methods.length || closed) finish()
    }
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk])
      parse(false)
    })
    socket.on('close', () => parse(true))
    socket.on('error', () => {})
    socket.on('connect', () => {
      for (const write of writes) socket.write(write)
    })
  })
}
