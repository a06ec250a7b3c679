import { createHash } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { ExchangeRequest } from '../exchange/types.js'
import { chatCompletions } from '../formats/chat-completions.js'
import { resolveOptions } from '../options.js'
import { BodyMemo } from './body-memo.js'
import { RequestPreparer } from './prepare.js'

/**
 * Two different 16-byte bodies with the same CRC-32: a birthday search over
 * pseudo-random bodies (SHA-256 of a counter), deterministic, about 10^5 tries.
 */
function crcCollision(): [Buffer, Buffer] {
  const seen = new Map<number, Buffer>()
  for (let index = 0; ; index++) {
    const body = createHash('sha256').update(String(index)).digest().subarray(0, 16)
    const crc = crc32(body)
    const earlier = seen.get(crc)
    if (earlier !== undefined) return [earlier, body]
    seen.set(crc, body)
  }
}

describe('BodyMemo', () => {
  it('answers for the same bytes in another buffer', () => {
    const memo = new BodyMemo<{ digest: string }>()
    memo.set('chat', Buffer.from('{"model":"a"}'), { digest: 'A' })
    expect(memo.get('chat', Buffer.from('{"model":"a"}'))).toEqual({ digest: 'A' })
    expect(memo.get('chat', Buffer.from('{"model":"b"}'))).toBeUndefined()
  })

  it('keeps kinds apart', () => {
    const memo = new BodyMemo<{ digest: string }>()
    memo.set('chat', Buffer.from('{}'), { digest: 'A' })
    expect(memo.get('embeddings', Buffer.from('{}'))).toBeUndefined()
  })

  it('never gives one body the result of another with the same CRC-32', () => {
    const [first, second] = crcCollision()
    expect(crc32(first)).toBe(crc32(second))
    expect(first.equals(second)).toBe(false)
    const memo = new BodyMemo<{ digest: string }>()
    memo.set('chat', first, { digest: 'first' })
    expect(memo.get('chat', second)).toBeUndefined()
    memo.set('chat', second, { digest: 'second' })
    expect(memo.get('chat', second)).toEqual({ digest: 'second' })
    expect(memo.get('chat', first)).toBeUndefined()
  })

  it('copies the body, so a reused buffer does not change what it remembers', () => {
    const memo = new BodyMemo<{ digest: string }>()
    const socketBuffer = Buffer.from('{"model":"a"}')
    memo.set('chat', socketBuffer, { digest: 'A' })
    socketBuffer.write('{"model":"b"}')
    expect(memo.get('chat', socketBuffer)).toBeUndefined()
    expect(memo.get('chat', Buffer.from('{"model":"a"}'))).toEqual({ digest: 'A' })
  })

  it('does not remember bodies over its size limit, and holds no more bytes than it may', () => {
    const memo = new BodyMemo<{ index: number }>({ maxBytes: 10_000, maxBodyBytes: 1_000 })
    const large = Buffer.alloc(1_001, 'a')
    memo.set('chat', large, { index: 0 })
    expect(memo.get('chat', large)).toBeUndefined()
    const bodies = Array.from({ length: 50 }, (_, index) => Buffer.from(`${index}`.padEnd(900, 'x')))
    bodies.forEach((body, index) => memo.set('chat', body, { index }))
    // About 1 KB counted per body: only the most recent nine or so fit in 10 KB.
    expect(memo.get('chat', bodies[49]!)).toEqual({ index: 49 })
    expect(memo.get('chat', bodies[0]!)).toBeUndefined()
    expect(bodies.filter((body) => memo.get('chat', body) !== undefined).length).toBeLessThanOrEqual(10)
  })

  it('keeps bodies of one length apart that differ only between the sampled words', () => {
    // 1,000-byte bodies that differ in one digit near the middle: their sampled keys are the same.
    const bodies = ['1', '2', '3'].map((digit) => Buffer.from(`{"a":"${'x'.repeat(495)}${digit}${'x'.repeat(490)}"}`))
    expect(new Set(bodies.map((body) => body.byteLength)).size).toBe(1)
    const memo = new BodyMemo<{ digit: number }>()
    bodies.forEach((body, index) => memo.set('chat', body, { digit: index + 1 }))
    expect(memo.sampledEntries).toBe(1)
    // However they alternate, each gets its own result (the CRC index decides where the samples cannot).
    for (const index of [0, 1, 2, 2, 0, 1, 0]) {
      expect(memo.get('chat', Buffer.from(bodies[index]!))).toEqual({ digit: index + 1 })
    }
  })

  it('drops a body from the sampled index when the memo lets it go', () => {
    const memo = new BodyMemo<{ index: number }>({ maxBytes: 10_000, maxBodyBytes: 1_000 })
    const bodies = Array.from({ length: 50 }, (_, index) => Buffer.from(`${index}`.padEnd(900, 'x')))
    bodies.forEach((body, index) => memo.set('chat', body, { index }))
    const held = bodies.filter((body) => memo.get('chat', body) !== undefined).length
    expect(memo.sampledEntries).toBeLessThanOrEqual(held)
    expect(memo.get('chat', bodies[0]!)).toBeUndefined()
  })

  it('remembers short bodies too, by their CRC alone', () => {
    const memo = new BodyMemo<{ digest: string }>()
    memo.set('chat', Buffer.from('{"m":1}'), { digest: 'short' })
    expect(memo.sampledEntries).toBe(0)
    expect(memo.get('chat', Buffer.from('{"m":1}'))).toEqual({ digest: 'short' })
    expect(memo.get('chat', Buffer.from('{"m":2}'))).toBeUndefined()
  })
})

describe('the memo of request bodies, bounded by bodyMemoBytes', () => {
  function request(body: string): ExchangeRequest {
    return {
      method: 'POST',
      path: '/v1/chat/completions',
      url: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      readBody: () => Buffer.from(body),
      bodyStream: async function* () {},
      signal: new AbortController().signal,
    }
  }
  const body = (index: number) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `question ${index} ${'x'.repeat(900)}` }] })

  it('never holds more than bodyMemoBytes, however many distinct bodies arrive', () => {
    const preparer = new RequestPreparer(resolveOptions({ upstream: 'http://127.0.0.1:1/v1', bodyMemoBytes: 20_000 }))
    for (let index = 0; index < 500; index++) preparer.openAi(request(body(index)), chatCompletions)
    expect(preparer.memoBytes).toBeGreaterThan(10_000)
    expect(preparer.memoBytes).toBeLessThanOrEqual(20_000)
  })

  it('holds nothing with bodyMemoBytes 0, and still answers', () => {
    const preparer = new RequestPreparer(resolveOptions({ upstream: 'http://127.0.0.1:1/v1', bodyMemoBytes: 0 }))
    const first = preparer.openAi(request(body(1)), chatCompletions)
    const again = preparer.openAi(request(body(1)), chatCompletions)
    expect(preparer.memoBytes).toBe(0)
    expect('requestDigest' in first && 'requestDigest' in again && first.requestDigest === again.requestDigest).toBe(true)
  })

  it('is a quarter of maxBytes by default, at most 16 MiB, and counted within that', () => {
    expect(resolveOptions({ maxBytes: 1024 * 1024 }).bodyMemoBytes).toBe(256 * 1024)
    expect(resolveOptions({}).bodyMemoBytes).toBe(16 * 1024 * 1024)
    const preparer = new RequestPreparer(resolveOptions({ upstream: 'http://127.0.0.1:1/v1', maxBytes: 40_000 }))
    for (let index = 0; index < 500; index++) preparer.openAi(request(body(index)), chatCompletions)
    expect(preparer.memoBytes).toBeLessThanOrEqual(10_000)
  })
})
