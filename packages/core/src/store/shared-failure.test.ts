import { describe, expect, it } from 'vitest'
import { decodeSharedFailure, encodeSharedFailure, responseFailure, type SharedFailure, sharedFailureHeaders } from './shared-failure.js'

describe('shared failures', () => {
  it('round-trips an error answer and an error aicache made', () => {
    const failures: SharedFailure[] = [
      { kind: 'response', status: 503, headers: { 'content-type': 'application/json' }, body: Buffer.from([0, 255, 10]) },
      { kind: 'error', code: 'circuit_open', message: 'open', retryAfterMs: 4_000 },
    ]
    for (const failure of failures) expect(decodeSharedFailure(encodeSharedFailure(failure))).toEqual(failure)
  })

  it('reads anything malformed or foreign as no failure, so the waiter calls the upstream itself', () => {
    for (const text of [
      null,
      '',
      'not json',
      '[]',
      '{"kind":"response","status":"503","headers":{},"body":""}',
      '{"kind":"response","status":42,"headers":{},"body":""}',
      '{"kind":"error","code":1}',
      '{"kind":"other"}',
    ]) {
      expect(decodeSharedFailure(text)).toBeUndefined()
    }
  })

  it('does not share a body too large to be worth a Redis write', () => {
    expect(responseFailure(502, {}, Buffer.alloc(64 * 1024))).toMatchObject({ kind: 'response', status: 502 })
    expect(responseFailure(502, {}, Buffer.alloc(64 * 1024 + 1))).toBeUndefined()
  })

  it('passes on the headers a client acts on, and no others', () => {
    const headers = sharedFailureHeaders({
      'Content-Type': 'application/json',
      'retry-after': '2',
      'x-ratelimit-remaining-requests': '0',
      'x-request-id': 'req_1',
      'set-cookie': ['a=1'],
      connection: 'keep-alive',
    })
    expect(headers).toEqual({ 'content-type': 'application/json', 'retry-after': '2', 'x-ratelimit-remaining-requests': '0', 'x-request-id': 'req_1' })
  })
})
