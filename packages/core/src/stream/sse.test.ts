import { describe, expect, it } from 'vitest'
import { SseParser, serializeEvents, streamErrorOf } from './sse.js'

const encoder = new TextEncoder()

/** Everything the parser makes of `text` fed in pieces cut at `cuts`, then ended. */
function parse(text: string, cuts: number[] = []): Array<{ data: string; event?: string }> {
  const parser = new SseParser(0)
  const bytes = encoder.encode(text)
  const events = []
  let from = 0
  for (const cut of [...cuts, bytes.length]) {
    events.push(...parser.push(bytes.subarray(from, cut), 0))
    from = cut
  }
  events.push(...parser.end(0))
  return events.map(({ data, event }) => (event === undefined ? { data } : { data, event }))
}

const stream = 'data: {"n":1}\n\nevent: note\ndata: line one\ndata: line two\n\n: keep-alive\n\ndata: [DONE]\n\n'
const expected = [{ data: '{"n":1}' }, { event: 'note', data: 'line one\nline two' }, { data: '[DONE]' }]

describe('SseParser', () => {
  it('reads events, named events, multi-line data, and skips comments', () => {
    expect(parse(stream)).toEqual(expected)
  })

  it('reads the same events whatever the chunk boundaries, a multi-byte character split included', () => {
    const text = 'data: {"q":"¿qué?"}\n\n' + stream
    const whole = parse(text)
    const length = encoder.encode(text).length
    for (let cut = 1; cut < length; cut++) expect(parse(text, [cut])).toEqual(whole)
  })

  it('reads CRLF and CR line ends, a CRLF split across chunks included', () => {
    const crlf = stream.replaceAll('\n', '\r\n')
    const length = encoder.encode(crlf).length
    for (let cut = 1; cut < length; cut++) expect(parse(crlf, [cut])).toEqual(expected)
    expect(parse(stream.replaceAll('\n', '\r'))).toEqual(expected)
  })

  it('returns a last block that ended without a blank line when the stream ends', () => {
    expect(parse('data: {"n":1}\n\ndata: {"n":2}')).toEqual([{ data: '{"n":1}' }, { data: '{"n":2}' }])
  })

  it('serialises events back to the bytes it read (without comments)', () => {
    expect(serializeEvents(parse(stream))).toBe('data: {"n":1}\n\nevent: note\ndata: line one\ndata: line two\n\ndata: [DONE]\n\n')
  })
})

describe('streamErrorOf', () => {
  it('finds an error event in either form, with its message', () => {
    expect(streamErrorOf({ data: '{"error":{"message":"model failed","type":"server_error"}}' })).toEqual({ message: 'model failed' })
    expect(streamErrorOf({ event: 'error', data: '{"error":{"message":"overloaded"}}' })).toEqual({ message: 'overloaded' })
    expect(streamErrorOf({ event: 'error', data: 'plain text' })).toEqual({ message: 'plain text' })
    expect(streamErrorOf({ data: '{"error":"rate limited"}' })).toEqual({ message: 'rate limited' })
  })

  it('takes no ordinary chunk for an error, even one whose text says "error"', () => {
    const chunk = { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: '"error"' }, finish_reason: null }] }
    expect(streamErrorOf({ data: JSON.stringify(chunk) })).toBeUndefined()
    expect(streamErrorOf({ data: '{"error":null,"choices":[]}' })).toBeUndefined()
    expect(streamErrorOf({ data: '{"word":"error"}' })).toBeUndefined()
    expect(streamErrorOf({ data: '[DONE]' })).toBeUndefined()
  })
})
