import { describe, expect, it } from 'vitest'
import type { CacheEntry } from '../store/entry.js'
import { hitOutcome } from './outcomes.js'
import { represent } from './representation.js'

const createdAt = Date.UTC(2026, 0, 1)
const entry: CacheEntry = {
  version: 1,
  format: 'json',
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from('{"choices":[{"message":{"content":"hi"}}]}'),
  events: undefined,
  model: 'gpt-4o-mini',
  usage: { inputTokens: 3, outputTokens: 1 },
  createdAt,
  ttlMs: 60_000,
}
const asJson = { stream: false, includeUsage: false }

describe('hitOutcome', () => {
  it('gives Age, Cache-Status and Content-Length that follow the clock', () => {
    const first = hitOutcome(entry, represent(entry, asJson)!, 'l1', createdAt + 200)
    expect(first.headers).toEqual({
      'content-type': 'application/json',
      'cache-status': 'aicache; hit; ttl=59; detail=l1',
      age: '0',
      'content-length': entry.body.byteLength,
    })
    const later = hitOutcome(entry, represent(entry, asJson)!, 'l1', createdAt + 5_300)
    expect(later.headers).toMatchObject({ age: '5', 'cache-status': 'aicache; hit; ttl=54; detail=l1' })
    const fromL2 = hitOutcome(entry, represent(entry, asJson)!, 'l2', createdAt + 5_400)
    expect(fromL2.headers['cache-status']).toBe('aicache; hit; ttl=54; detail=l2')
  })

  it('shares one frozen headers object between the hits of an entry within a second', () => {
    const first = hitOutcome(entry, represent(entry, asJson)!, 'l1', createdAt + 10_100)
    const second = hitOutcome(entry, represent(entry, asJson)!, 'l1', createdAt + 10_900)
    expect(second.headers).toBe(first.headers)
    expect(Object.isFrozen(first.headers)).toBe(true)
    const next = hitOutcome(entry, represent(entry, asJson)!, 'l1', createdAt + 11_000)
    expect(next.headers).not.toBe(first.headers)
    expect(next.headers['age']).toBe('11')
  })

  it('does not give a stream hit the headers of a JSON hit of the same entry', () => {
    const json = hitOutcome(entry, represent(entry, asJson)!, 'l1', createdAt + 20_000)
    const stream = hitOutcome(entry, represent(entry, { stream: true, includeUsage: false })!, 'l1', createdAt + 20_000)
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8')
    expect(stream.headers['content-length']).not.toBe(json.headers['content-length'])
  })
})
