import type { FakeUpstream } from '@aicache/testkit'
import { readAll } from '../../src/upstream/headers.js'
import { createHttpUpstream } from '../../src/upstream/http-upstream.js'
import { createResilientUpstream, type ResilienceHooks, type ResilienceOptions } from '../../src/upstream/resilient-upstream.js'
import type { Upstream, UpstreamCall } from '../../src/upstream/types.js'

/** Test helpers: a real HTTP upstream to the fake, wrapped, and calls to send through it. */

export const chatBody = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }], max_tokens: 16 }

export function chatCall(signal: AbortSignal = new AbortController().signal, body: unknown = chatBody): UpstreamCall {
  return {
    method: 'POST',
    url: '/v1/chat/completions',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
    body: Buffer.from(JSON.stringify(body)),
    signal,
  }
}

/** Sends a call and reads the whole answer, as the engine would. */
export async function sendAndRead(
  upstream: Upstream,
  call: UpstreamCall = chatCall(),
): Promise<{ status: number; headers: Record<string, string | string[]>; body: string }> {
  const response = await upstream.send(call)
  return { status: response.status, headers: response.headers, body: (await readAll(response.body)).toString('utf8') }
}

/** The fake behind the real HTTP upstream behind the resilient one; `inner` counts calls in flight. */
export function resilientTo(fake: FakeUpstream, options: ResilienceOptions, hooks: ResilienceHooks = {}) {
  const http = createHttpUpstream({ baseUrl: new URL(fake.url), timeoutMs: 10_000 })
  const inner = { inFlight: 0, maxInFlight: 0 }
  const counting: Upstream = {
    async send(call) {
      inner.inFlight++
      inner.maxInFlight = Math.max(inner.maxInFlight, inner.inFlight)
      try {
        const response = await http.send(call)
        const body = response.body as AsyncIterable<Uint8Array> & { once(event: 'close', listener: () => void): void }
        body.once('close', () => void inner.inFlight--)
        return response
      } catch (error) {
        inner.inFlight--
        throw error
      }
    },
    close: () => http.close(),
  }
  return { upstream: createResilientUpstream(counting, options, hooks), inner }
}

/** A sleep that returns at once and remembers what it was asked to wait, moving a fake clock. */
export function recordingClock() {
  const clock = { nowMs: 1_700_000_000_000, delays: [] as number[] }
  return {
    clock,
    hooks: {
      now: () => clock.nowMs,
      sleep: async (delayMs: number) => {
        clock.delays.push(delayMs)
        clock.nowMs += delayMs
      },
    } satisfies ResilienceHooks,
  }
}
