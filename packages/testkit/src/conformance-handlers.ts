/**
 * Conformance: what a wrapped handler does besides answering — attaching
 * usage with `setCacheMeta`, throwing, streaming to a client that leaves.
 */
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConformanceHarness, WrapHandler, WrappedApp } from './conformance.js'

function ask(app: WrappedApp, init: RequestInit = {}): Promise<Response> {
  return fetch(`${app.url}/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm', prompt: 'x' }),
    ...init,
  })
}

/** Registers the handler part of the suite for one adapter. */
export function describeHandlerConformance(name: string, harness: ConformanceHarness): void {
  describe(`${name} conformance: handlers`, () => {
    const running: WrappedApp[] = []
    afterEach(async () => {
      await Promise.all(running.splice(0).map((app) => app.close()))
    })
    async function wrap(options: Record<string, unknown>, handler: WrapHandler): Promise<WrappedApp> {
      const app = await harness.wrap(options, handler)
      running.push(app)
      return app
    }

    it('stores the usage a handler attaches with setCacheMeta, and counts it as saved on a hit', async () => {
      const app = await wrap({ scope: 'shared' }, async (_route, body) => ({
        status: 200,
        body: { answer: `about ${(body as { prompt: string }).prompt}` },
        meta: { model: 'gpt-4o-mini', usage: { inputTokens: 11, outputTokens: 22 } },
      }))
      await ask(app)
      const hit = await ask(app)
      expect(hit.headers.get('cache-status')).toMatch(/hit/)
      expect(await hit.json()).toEqual({ answer: 'about x' })
      expect(app.engine.stats().tokensSaved).toEqual({ input: 11, output: 22 })
    })

    it("passes an error the handler throws to the framework's error handling and stores nothing", async () => {
      let calls = 0
      const app = await wrap({}, async () => {
        if (++calls === 1) throw new Error('model failed')
        return { status: 200, body: { answer: calls } }
      })
      expect((await ask(app)).status).toBe(500)
      expect(app.errors).toEqual([expect.objectContaining({ message: 'model failed' })])
      const second = await ask(app)
      expect(second.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
      expect(await second.json()).toEqual({ answer: 2 })
      expect((await ask(app)).headers.get('cache-status')).toMatch(/hit/)
      expect(calls).toBe(2)
    })

    it('records a streamed answer as it is sent and replays it on a hit', async () => {
      let calls = 0
      const app = await wrap({}, async () => {
        calls++
        const stream = new PassThrough()
        stream.write('{"answer":')
        stream.end('"streamed"}')
        return { status: 200, stream }
      })
      expect(await (await ask(app)).json()).toEqual({ answer: 'streamed' })
      const hit = await ask(app)
      expect(hit.headers.get('cache-status')).toMatch(/hit/)
      expect(await hit.json()).toEqual({ answer: 'streamed' })
      expect(calls).toBe(1)
    })

    it('stores nothing when the client leaves in the middle of a streamed answer', async () => {
      let calls = 0
      let closed: Promise<unknown> = Promise.resolve()
      const app = await wrap({}, async () => {
        const stream = new PassThrough()
        closed = new Promise((resolve) => stream.once('close', resolve))
        stream.write('{"answer":')
        // The first answer never ends: its client leaves after the first bytes.
        if (++calls > 1) stream.end('"complete"}')
        return { status: 200, stream }
      })
      const controller = new AbortController()
      const partial = await ask(app, { signal: controller.signal })
      expect(partial.status).toBe(200)
      controller.abort()
      await closed
      const second = await ask(app)
      expect(second.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
      expect(await second.json()).toEqual({ answer: 'complete' })
      expect((await ask(app)).headers.get('cache-status')).toMatch(/hit/)
      expect(calls).toBe(2)
    })
  })
}
