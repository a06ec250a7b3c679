import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RemoteTier } from '../tiers/tier.js'
import type { CacheEntry } from './entry.js'

/**
 * The storage half of the remote tier interface, which every cache store
 * must honour (the memory tier is run through it wrapped in promises).
 */
export type AsyncCacheStore = Pick<RemoteTier, 'get' | 'set' | 'delete'>

/** A store under test, with its back door when it has one. */
export interface StoreUnderTest {
  store: AsyncCacheStore
  /** Writes bytes under a cache key the way another program would (stores of typed values have no such door). */
  writeRaw?(key: string, bytes: Buffer): Promise<void>
  /** The bytes held under a cache key, `undefined` if none. */
  readRaw?(key: string): Promise<Buffer | undefined>
  /** Stops everything the factory started. */
  close(): Promise<void>
}

/**
 * Asserts that `actual` is `expected`, the body compared as bytes (vitest's
 * deep equality walks a Buffer byte by byte and takes seconds on 100 KB).
 */
export function expectSameEntry(actual: CacheEntry | undefined, expected: CacheEntry): void {
  expect(actual).toBeDefined()
  const { body, ...rest } = actual!
  const { body: expectedBody, ...expectedRest } = expected
  expect(rest).toEqual(expectedRest)
  expect(Buffer.isBuffer(body) && body.equals(expectedBody)).toBe(true)
}

let keyCounter = 0
const uniqueKey = (label: string) => `${label}-${process.pid}-${Date.now()}-${++keyCounter}`

/** A fresh entry; `overrides` replace any field. */
export function sampleEntry(overrides: Partial<CacheEntry> = {}): CacheEntry {
  return {
    version: 1,
    format: 'json',
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"id":"chatcmpl-1","choices":[{"message":{"content":"Hi"}}]}'),
    events: undefined,
    model: 'gpt-4o-mini',
    usage: { inputTokens: 12, outputTokens: 3 },
    createdAt: Date.now(),
    ttlMs: 60_000,
    ...overrides,
  }
}

const sseEntry = (): CacheEntry =>
  sampleEntry({
    format: 'sse',
    headers: { 'content-type': 'text/event-stream', 'openai-version': '2020-10-01' },
    body: Buffer.alloc(0),
    events: [
      { data: '{"choices":[{"delta":{"content":"Grüße 👋"}}]}', offsetMs: 0 },
      { data: 'line one\nline two', event: 'message', offsetMs: 15 },
      { data: '[DONE]', offsetMs: 31 },
    ],
    usage: undefined,
  })

// Values a foreign program or a broken write could leave under a cache key.
const garbage: ReadonlyArray<[string, Buffer]> = [
  ['plain text', Buffer.from('not an entry')],
  ['empty', Buffer.alloc(0)],
  ['magic only', Buffer.from([0xac, 0x1e])],
  ['a future codec version', Buffer.from([0xac, 0x1e, 9, 0, 0, 0, 0, 2, 0x7b, 0x7d])],
  ['unknown flags', Buffer.from([0xac, 0x1e, 1, 0x80, 0, 0, 0, 2, 0x7b, 0x7d])],
  ['a metadata length past the end', Buffer.from([0xac, 0x1e, 1, 0, 0, 0, 0x10, 0, 0x7b])],
  ['metadata that is not JSON', Buffer.from([0xac, 0x1e, 1, 0, 0, 0, 0, 3, 0x7b, 0x7b, 0x7b])],
  ['JSON of the wrong shape', Buffer.from([0xac, 0x1e, 1, 0, 0, 0, 0, 12, ...Buffer.from('{"format":1}')])],
  ['a broken brotli stream', Buffer.from([0xac, 0x1e, 1, 1, 0xde, 0xad, 0xbe, 0xef, 0x00])],
]

/**
 * The behaviour every cache store must have, run against each implementation
 * (memory tier, Redis, Redis Cluster) so that they cannot drift apart.
 */
export function describeStoreContract(
  name: string,
  factory: () => Promise<StoreUnderTest>,
  { holdsRawBytes = true }: { holdsRawBytes?: boolean } = {},
): void {
  describe(`store contract: ${name}`, () => {
    let subject: StoreUnderTest
    beforeAll(async () => {
      subject = await factory()
    })
    afterAll(async () => {
      await subject?.close()
    })

    it('round-trips a json entry with its body byte-exact', async () => {
      const key = uniqueKey('json')
      const entry = sampleEntry({ body: Buffer.concat([Buffer.from('{"a":"é"}'), Buffer.from([0, 255, 128, 10])]) })
      await subject.store.set(key, entry)
      expectSameEntry(await subject.store.get(key), entry)
    })

    it('round-trips an sse entry with its events exact', async () => {
      const key = uniqueKey('sse')
      const entry = sseEntry()
      await subject.store.set(key, entry)
      expectSameEntry(await subject.store.get(key), entry)
    })

    it('misses a key never stored', async () => {
      expect(await subject.store.get(uniqueKey('missing'))).toBeUndefined()
    })

    it('keeps an entry until its TTL is over, then misses', async () => {
      const key = uniqueKey('ttl')
      await subject.store.set(key, sampleEntry({ ttlMs: 300 }))
      expect(await subject.store.get(key)).toBeDefined()
      await sleep(450)
      expect(await subject.store.get(key)).toBeUndefined()
    })

    it('does not keep an entry whose TTL is already over', async () => {
      const key = uniqueKey('stale')
      await subject.store.set(key, sampleEntry({ createdAt: Date.now() - 10_000, ttlMs: 5_000 }))
      expect(await subject.store.get(key)).toBeUndefined()
    })

    it('deletes, and deleting a missing key is fine', async () => {
      const key = uniqueKey('delete')
      await subject.store.set(key, sampleEntry())
      await subject.store.delete(key)
      expect(await subject.store.get(key)).toBeUndefined()
      await expect(subject.store.delete(uniqueKey('never'))).resolves.toBeUndefined()
    })

    it('replaces an entry set again', async () => {
      const key = uniqueKey('replace')
      await subject.store.set(key, sampleEntry({ model: 'first' }))
      await subject.store.set(key, sampleEntry({ model: 'second' }))
      expect((await subject.store.get(key))?.model).toBe('second')
    })

    it('round-trips large entries, compressible and not', async () => {
      const choices = Array.from({ length: 4000 }, (_, index) => ({ index, text: 'lorem ipsum' }))
      const text = JSON.stringify({ choices })
      const compressible = sampleEntry({ body: Buffer.from(text) })
      const random = sampleEntry({ body: randomBytes(64 * 1024) })
      const [first, second] = [uniqueKey('large'), uniqueKey('random')]
      await subject.store.set(first, compressible)
      await subject.store.set(second, random)
      expectSameEntry(await subject.store.get(first), compressible)
      expectSameEntry(await subject.store.get(second), random)
      if (subject.readRaw) {
        expect((await subject.readRaw(first))!.byteLength).toBeLessThan(compressible.body.byteLength / 4)
        expect((await subject.readRaw(second))!.byteLength).toBeLessThan(random.body.byteLength + 1024)
      }
    })

    // A store of typed values (the memory tier) cannot hold foreign bytes at all.
    for (const [label, bytes] of holdsRawBytes ? garbage : []) {
      it(`misses on a foreign value (${label}), drops it, and stores over it`, async () => {
        const key = uniqueKey('garbage')
        await subject.writeRaw!(key, bytes)
        expect(await subject.store.get(key)).toBeUndefined()
        if (subject.readRaw) expect(await subject.readRaw(key)).toBeUndefined()
        const entry = sampleEntry()
        await subject.store.set(key, entry)
        expectSameEntry(await subject.store.get(key), entry)
      })
    }
  })
}
