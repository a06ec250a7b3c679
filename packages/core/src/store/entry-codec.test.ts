import { describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntry } from './entry-codec.js'
import { expectSameEntry, sampleEntry } from '../../test/support/store-entries.js'

const header = (flags = 0) => Buffer.from([0xac, 0x1e, 1, flags])

function withMetadata(metadata: unknown, body = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(metadata))
  const length = Buffer.alloc(4)
  length.writeUInt32BE(json.byteLength)
  return Buffer.concat([header(), length, json, body])
}

const validMetadata = {
  format: 'json',
  status: 200,
  headers: { 'content-type': 'application/json' },
  createdAt: 1_700_000_000_000,
  ttlMs: 1000,
}

describe('entry codec', () => {
  it('keeps a binary body as bytes, not base64', async () => {
    const body = Buffer.alloc(2000, 0xff)
    const bytes = await encodeEntry(sampleEntry({ body }), { compressAboveBytes: 1_000_000 })
    expect(bytes.byteLength).toBeLessThan(body.byteLength + 400)
    expect(bytes.subarray(-body.byteLength).equals(body)).toBe(true)
  })

  it('compresses above the threshold and marks it in the flags', async () => {
    const entry = sampleEntry({ body: Buffer.from('abc'.repeat(5000)) })
    const plain = await encodeEntry(entry, { compressAboveBytes: 1_000_000 })
    const compressed = await encodeEntry(entry, { compressAboveBytes: 4096 })
    expect(plain[3]).toBe(0)
    expect(compressed[3]).toBe(1)
    expect(compressed.byteLength).toBeLessThan(plain.byteLength / 10)
    expectSameEntry(await decodeEntry(compressed), entry)
  })

  it('stores incompressible payloads plain even above the threshold', async () => {
    const entry = sampleEntry({ body: Buffer.from(Array.from({ length: 8192 }, (_, index) => (index * 7919) % 251)) })
    const bytes = await encodeEntry(entry, { compressAboveBytes: 0 })
    expectSameEntry(await decodeEntry(bytes), entry)
  })

  it('keeps the prompt-cache and reasoning parts of the usage, so a hit from Redis prices what its miss cost', async () => {
    const usage = { inputTokens: 2000, outputTokens: 300, cacheReadTokens: 1500, cacheWriteTokens: 200, reasoningTokens: 100 }
    const entry = await decodeEntry(await encodeEntry(sampleEntry({ usage })))
    expect(entry?.usage).toEqual(usage)
    const partial = await decodeEntry(withMetadata({ ...validMetadata, usage: { inputTokens: 5, outputTokens: 1, cacheReadTokens: 3 } }))
    expect(partial?.usage).toEqual({ inputTokens: 5, outputTokens: 1, cacheReadTokens: 3 })
    expect(await decodeEntry(withMetadata({ ...validMetadata, usage: { inputTokens: 5, outputTokens: 1, cacheReadTokens: '3' } }))).toBeUndefined()
  })

  it('decodes valid metadata without optional fields', async () => {
    const entry = await decodeEntry(withMetadata(validMetadata, Buffer.from('{}')))
    expect(entry).toMatchObject({ version: 1, format: 'json', status: 200, model: undefined, usage: undefined })
    expect(entry?.body.toString()).toBe('{}')
  })

  it.each([
    ['a status out of range', { ...validMetadata, status: 42 }],
    ['an unknown format', { ...validMetadata, format: 'xml' }],
    ['a header that is not a string', { ...validMetadata, headers: { 'content-type': 1 } }],
    ['an sse entry without events', { ...validMetadata, format: 'sse' }],
    ['an event without data', { ...validMetadata, format: 'sse', events: [{ offsetMs: 0 }] }],
    ['usage of the wrong type', { ...validMetadata, usage: { inputTokens: '1', outputTokens: 2 } }],
    ['a negative TTL', { ...validMetadata, ttlMs: -1 }],
    ['no createdAt', { ...validMetadata, createdAt: undefined }],
    ['an array', [validMetadata]],
    ['null', null],
  ])('decodes metadata with %s to undefined', async (_label, metadata) => {
    expect(await decodeEntry(withMetadata(metadata))).toBeUndefined()
  })

  it('copies only known fields, and a "__proto__" header stays a header', async () => {
    const text = JSON.stringify({ ...validMetadata, extra: 'ignored' }).replace('"headers":{', '"headers":{"__proto__":"x",')
    const json = Buffer.from(text)
    const length = Buffer.alloc(4)
    length.writeUInt32BE(json.byteLength)
    const entry = await decodeEntry(Buffer.concat([header(), length, json]))
    expect(entry).toBeDefined()
    expect(entry).not.toHaveProperty('extra')
    expect(Object.getPrototypeOf(entry!.headers)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(entry!.headers, '__proto__')?.value).toBe('x')
  })

  it('decodes a compressed payload that is not brotli to undefined', async () => {
    expect(await decodeEntry(Buffer.concat([header(1), Buffer.from('not brotli at all')]))).toBeUndefined()
  })
})
