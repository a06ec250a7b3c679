/**
 * Passthrough paths that try to leave the upstream's base path, or its host,
 * attacked with raw request lines (HTTP clients would normalise them first).
 * A second upstream notices any request sent to another host; the gateway's
 * own upstream key must never reach it, nor any path outside the base path.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startFakeUpstream } from './fake-upstream.js'
import { rawExchange } from './raw-http.js'
import type { FakeUpstream } from './types.js'
import type { AttackedApp } from './framing-attacks.js'

/** Starts the app under attack in proxy mode, with the gateway's own upstream key. */
export type StartKeyedApp = (options: { upstream: string; upstreamApiKey: string }) => Promise<AttackedApp>

/** Request targets that must be refused; `{other}` is the second upstream's `host:port`. */
export const escapingTargets = [
  '/v1/../admin',
  '/v1/./models',
  '/v1/%2e%2e/admin',
  '/v1/%2E%2E/%2e%2e/deployments/other/chat/completions',
  '/v1/.%2e/admin',
  '/v1/models/..%2f..%2fadmin',
  '/v1/models/%2f%2fother',
  '/v1/models/..%5cadmin',
  '/v1//{other}/x',
  '/v1///{other}/x',
  '/v1/models%00',
  '/v1/models/%zz',
  'http://{other}/v1/models',
] as const

const gatewayKey = 'sk-gateway-own-key'

/** Options of {@link describePathAttacks}. */
export interface PathAttackOptions {
  /**
   * Targets the framework itself refuses before aicache sees them (Fastify's
   * router answers a malformed percent-encoding with its own 400, an
   * absolute-form target with its own 404): for them only "a 4xx, and nothing
   * sent anywhere" is checked.
   */
  refusedByFramework?: readonly string[]
}

/** Registers the path-escape attacks against one app. */
export function describePathAttacks(name: string, start: StartKeyedApp, options: PathAttackOptions = {}): void {
  describe(`${name}: a passthrough path leaving the upstream's base path`, () => {
    let fake: FakeUpstream
    let other: FakeUpstream
    const apps: AttackedApp[] = []
    beforeAll(async () => {
      ;[fake, other] = await Promise.all([startFakeUpstream(), startFakeUpstream()])
    })
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.close()))
      fake.reset()
      other.reset()
    })
    afterAll(() => Promise.all([fake.close(), other.close()]))

    const bases = [
      ['/v1', '/v1'],
      ['/v1/', '/v1'],
      ['/openai/deployments/mine', '/openai/deployments/mine'],
      ['/openai/deployments/mine/', '/openai/deployments/mine'],
      ['/', ''],
    ] as const
    describe.each(bases)('base path %s', (basePath, forwardedPrefix) => {
      async function gatewayPort(): Promise<number> {
        const app = await start({ upstream: fake.origin + basePath, upstreamApiKey: gatewayKey })
        apps.push(app)
        return Number(new URL(app.url).port)
      }

      it.each(escapingTargets)('refuses %s with an OpenAI-style 400, sending nothing anywhere', async (template) => {
        const port = await gatewayPort()
        const target = template.replace('{other}', `127.0.0.1:${other.port}`)
        const [response] = await rawExchange(port, `GET ${target} HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n`)
        expect(other.calls).toEqual([])
        expect(fake.calls.filter((call) => !call.path.startsWith(`${forwardedPrefix}/`))).toEqual([])
        expect(fake.calls).toEqual([])
        if (options.refusedByFramework?.includes(template)) {
          expect(response?.status).toBeGreaterThanOrEqual(400)
          expect(response?.status).toBeLessThan(500)
          return
        }
        expect(response?.status).toBe(400)
        expect(JSON.parse(response!.body)).toMatchObject({ error: { code: 'invalid_path', type: 'invalid_request_error', param: 'path' } })
      })

      it('forwards a plain path under the base path, with the gateway key, to the configured host only', async () => {
        const port = await gatewayPort()
        const [response] = await rawExchange(port, 'GET /v1/models/gpt-4o-mini?limit=2 HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n')
        expect(response?.status).toBe(forwardedPrefix === '/v1' ? 200 : 404)
        expect(fake.calls.map((call) => [call.path, call.headers['authorization']])).toEqual([
          [`${forwardedPrefix}/models/gpt-4o-mini`, `Bearer ${gatewayKey}`],
        ])
        expect(other.calls).toEqual([])
      })
    })
  })
}
