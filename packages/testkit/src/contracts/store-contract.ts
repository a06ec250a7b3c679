import { randomBytes } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ContractExpect, ContractRunner } from './runner.js'

/**
 * One stored answer, as `@aicache/core` defines `CacheEntry` (written out
 * here because the testkit does not depend on the core; the core's own run
 * of the suite checks at compile time that the two are the same shape).
 */
export interface ContractEntry {
  readonly version: 1
  /** `json`: a whole body; `sse`: the recorded events of a stream. */
  readonly format: 'json' | 'sse'
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** The body of a `json` entry; empty for `sse`. */
  readonly body: Buffer
  /** The events of an `sse` entry, `[DONE]` included. */
  readonly events: readonly ContractEvent[] | undefined
  readonly model: string | undefined
  readonly usage:
    | {
        readonly inputTokens: number
        readonly outputTokens: number
        readonly cacheReadTokens?: number
        readonly cacheWriteTokens?: number
        readonly reasoningTokens?: number
      }
    | undefined
  /** Epoch milliseconds when the answer was produced. */
  readonly createdAt: number
  readonly ttlMs: number
}

/** One recorded server-sent event of an `sse` entry. */
export interface ContractEvent {
  readonly data: string
  readonly event?: string
  /** Milliseconds after the first event. */
  readonly offsetMs: number
}

/**
 * The methods of a cache store the suite calls. Each may answer at once or
 * with a promise, so a synchronous memory tier and an asynchronous remote
 * tier run the same suite.
 */
export interface ContractStore {
  get(key: string): Promise<ContractEntry | undefined> | ContractEntry | undefined
  set(key: string, entry: ContractEntry): Promise<unknown> | unknown
  delete(key: string): Promise<unknown> | unknown
}

/** A store under test, with its back door when it has one. */
export interface StoreUnderTest {
  store: ContractStore
  /** Writes bytes under a cache key the way another program would (stores of typed values have no such door). */
  writeRaw?(key: string, bytes: Buffer): Promise<void>
  /** The bytes held under a cache key, `undefined` if none. */
  readRaw?(key: string): Promise<Buffer | undefined>
  /** Stops everything `create` started: the cleanup after the suite. */
  close(): Promise<void>
}

/** How to run the store contract against one implementation. */
export interface StoreContractOptions {
  /** Shown in the suite's name, e.g. `'Redis Cluster'`. */
  name: string
  /** Creates the store under test, once before the suite's tests. */
  create(): Promise<StoreUnderTest>
  /**
   * The store keeps bytes and decodes them on `get`, so a foreign value can
   * sit under a cache key (`writeRaw` is then required); a store of typed
   * values, such as a memory tier, cannot hold one.
   * @default true
   */
  holdsRawBytes?: boolean
}

/**
 * Asserts with `expect` that `actual` is `expected`, the body compared as bytes (vitest's
 * deep equality walks a Buffer byte by byte and takes seconds on 100 KB).
 */
export function expectSameEntry(expect: ContractExpect, actual: ContractEntry | undefined, expected: ContractEntry): void {
  expect(actual).toBeDefined()
  const { body, ...rest } = actual!
  const { body: expectedBody, ...expectedRest } = expected
  expect(rest).toEqual(expectedRest)
  expect(Buffer.isBuffer(body) && body.equals(expectedBody)).toBe(true)
}

let keyCounter = 0
const uniqueKey = (label: string) => `${label}-${process.pid}-${Date.now()}-${++keyCounter}`

/** A fresh entry; `overrides` replace any field. */
export function sampleEntry(overrides: Partial<ContractEntry> = {}): ContractEntry {
  return {
    version: 1,
    format: 'json',
    status: 200,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from('{"id":"chatcmpl-1","choices":[{"message":{"content":"Hi"}}]}'),
    events: undefined,
    model: 'gpt-4o-mini',
    // With the provider's prompt-cache and reasoning parts: a hit from any store prices what its miss cost.
    usage: { inputTokens: 12, outputTokens: 3, cacheReadTokens: 8, cacheWriteTokens: 2, reasoningTokens: 1 },
    createdAt: Date.now(),
    ttlMs: 60_000,
    ...overrides,
  }
}

const sseEntry = (): ContractEntry =>
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
 * (memory tier, Redis, Redis Cluster, or a store of your own) so that they
 * cannot drift apart.
 *
 * @example
 * ```ts
 * import { afterAll, beforeAll, describe, expect, it } from 'vitest'
 * import { describeStoreContract } from '@aicache/testkit/contracts'
 *
 * describeStoreContract({ describe, it, expect, beforeAll, afterAll }, {
 *   name: 'my store',
 *   create: async () => {
 *     const store = await connectMyStore()
 *     return { store, close: () => store.quit() }
 *   },
 *   holdsRawBytes: false,
 * })
 * ```
 */
export function describeStoreContract(runner: ContractRunner, options: StoreContractOptions): void {
  const { describe, it, expect, beforeAll, afterAll } = runner
  const { name, create, holdsRawBytes = true } = options
  const sameEntry = (actual: ContractEntry | undefined, expected: ContractEntry) => expectSameEntry(expect, actual, expected)
  describe(`store contract: ${name}`, () => {
    let subject: StoreUnderTest
    beforeAll(async () => {
      subject = await create()
    })
    afterAll(async () => {
      await subject?.close()
    })

    it('round-trips a json entry with its body byte-exact', async () => {
      const key = uniqueKey('json')
      const entry = sampleEntry({ body: Buffer.concat([Buffer.from('{"a":"é"}'), Buffer.from([0, 255, 128, 10])]) })
      await subject.store.set(key, entry)
      sameEntry(await subject.store.get(key), entry)
    })

    it('round-trips an sse entry with its events exact', async () => {
      const key = uniqueKey('sse')
      const entry = sseEntry()
      await subject.store.set(key, entry)
      sameEntry(await subject.store.get(key), entry)
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
      // A rejection fails the test.
      await subject.store.delete(uniqueKey('never'))
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
      sameEntry(await subject.store.get(first), compressible)
      sameEntry(await subject.store.get(second), random)
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
        sameEntry(await subject.store.get(key), entry)
      })
    }
  })
}
