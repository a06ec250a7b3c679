/**
 * Request smuggling through the gateway's passthrough routes, attacked the
 * way a caller would: raw bytes on a socket, every method, every way of
 * framing a body (and of getting it wrong), with a whole HTTP request hidden
 * in the body. The fake upstream records what it parsed; a hidden request
 * must never reach it as a request of its own, the next caller's credentials
 * must never arrive inside another request, and the next caller's answer
 * must be its own.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { fakeChatAnswer } from './answers.js'
import { startFakeUpstream } from './fake-upstream.js'
import { rawExchange, type RawResponse } from './raw-http.js'
import type { FakeUpstream, RecordedCall } from './types.js'

/** A proxy-mode app under attack: its origin and how to close it. */
export interface AttackedApp {
  url: string
  close(): Promise<void>
}

/** Starts the app under attack in proxy mode in front of `upstream`. */
export type StartAttackedApp = (options: { upstream: string }) => Promise<AttackedApp>

/** Every method a passthrough route can be sent. */
export const attackMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'] as const

/** The ways a request body can be framed, or misframed. */
export const bodyForms = [
  'none',
  'empty',
  'content-length',
  'chunked',
  'content-length larger than sent',
  'content-length smaller than sent',
  'content-length and chunked',
] as const

/** One way of framing a body. */
export type BodyForm = (typeof bodyForms)[number]

const attackPath = '/v1/files/attack'
const chat = (content: string) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] })
const poisonBody = chat('poisoned')
// A complete chat call (the next caller's answer), then an open one whose body would swallow the next caller's request.
const hidden =
  'POST /v1/chat/completions HTTP/1.1\r\nHost: upstream\r\nAuthorization: Bearer sk-attacker\r\n' +
  `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(poisonBody)}\r\n\r\n${poisonBody}` +
  'POST /v1/smuggled HTTP/1.1\r\nHost: upstream\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n'
const filler = 'x'.repeat(10)
const victimBody = chat('What is the balance of my account?')

interface Attack {
  bytes: string
  /** Methods of the responses to wait for. */
  methods: string[]
  timeoutMs?: number
  /** What the upstream should have received as the attack's body, or undefined if the attack must not reach it. */
  forwardedBody: string | undefined
}

function chunked(text: string): string {
  return `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n0\r\n\r\n`
}

function attackOf(method: string, form: BodyForm): Attack {
  const head = `${method} ${attackPath} HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer sk-attacker\r\n`
  const length = Buffer.byteLength(hidden)
  const bodiless = method === 'GET' || method === 'HEAD'
  const reaches = (body: string) => (method === 'TRACE' ? undefined : bodiless ? '' : body)
  switch (form) {
    case 'none':
      return { bytes: `${head}\r\n`, methods: [method], forwardedBody: reaches('') }
    case 'empty':
      return { bytes: `${head}Content-Length: 0\r\n\r\n`, methods: [method], forwardedBody: reaches('') }
    case 'content-length':
      return { bytes: `${head}Content-Length: ${length}\r\n\r\n${hidden}`, methods: [method], forwardedBody: reaches(hidden) }
    case 'chunked':
      return { bytes: `${head}Transfer-Encoding: chunked\r\n\r\n${chunked(hidden)}`, methods: [method], forwardedBody: reaches(hidden) }
    case 'content-length larger than sent':
      // The rest never comes: no body may be forwarded as complete (a GET or HEAD goes without its body), and the caller gives up.
      return {
        bytes: `${head}Content-Length: ${length + 64}\r\n\r\n${hidden}`,
        methods: [method],
        timeoutMs: 300,
        forwardedBody: bodiless ? '' : undefined,
      }
    case 'content-length smaller than sent':
      // What follows the declared length is the caller's own next request on its own connection.
      return { bytes: `${head}Content-Length: ${filler.length}\r\n\r\n${filler}${hidden}`, methods: [method, 'POST'], forwardedBody: reaches(filler) }
    case 'content-length and chunked':
      return { bytes: `${head}Content-Length: ${length}\r\nTransfer-Encoding: chunked\r\n\r\n${chunked(hidden)}`, methods: [method], forwardedBody: undefined }
  }
}

function isPoison(call: RecordedCall): boolean {
  return call.path === '/v1/chat/completions' && call.rawBody === poisonBody
}

function askAsVictim(port: number): Promise<RawResponse[]> {
  const bytes =
    'POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer sk-victim\r\nContent-Type: application/json\r\n' +
    `Content-Length: ${Buffer.byteLength(victimBody)}\r\nConnection: close\r\n\r\n${victimBody}`
  return rawExchange(port, bytes, { methods: ['POST'] })
}

/** Options of {@link describeFramingAttacks}: the part of the matrix to run. */
export interface FramingAttackOptions {
  methods?: readonly string[]
  forms?: readonly BodyForm[]
}

/** Registers the smuggling attacks against one app. */
export function describeFramingAttacks(name: string, start: StartAttackedApp, options: FramingAttackOptions = {}): void {
  describe(`${name}: a request hidden in a passthrough body`, () => {
    // A fake upstream per case: a request still on its way from one case must not be recorded in the next.
    let fake: FakeUpstream
    const apps: AttackedApp[] = []
    beforeEach(async () => {
      fake = await startFakeUpstream()
    })
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.close()))
      await fake.close()
    })

    const cases = (options.methods ?? attackMethods).flatMap((method) => (options.forms ?? bodyForms).map((form) => [method, form] as const))
    it.each(cases)('%s with body %s never reaches the upstream as a request, nor takes the next caller', async (method, form) => {
      const app = await start({ upstream: fake.url })
      apps.push(app)
      const port = Number(new URL(app.url).port)
      const attack = attackOf(method, form)
      const [answer] = await rawExchange(port, attack.bytes, { methods: attack.methods, timeoutMs: attack.timeoutMs })
      if (form === 'content-length and chunked') expect(answer?.status).toBe(400)
      else if (method === 'TRACE' && form !== 'content-length larger than sent') {
        expect(answer?.status).toBe(405)
        expect(answer?.headers['allow']).toMatch(/^GET, HEAD, POST/)
        expect(answer?.headers['allow']).not.toMatch(/TRACE/)
        expect(JSON.parse(answer!.body)).toMatchObject({ error: { code: 'method_not_allowed' } })
      } else if (attack.forwardedBody !== undefined) expect(answer?.status).toBe(404)

      const [victim] = await askAsVictim(port)
      expect(victim?.status).toBe(200)
      const content = (JSON.parse(victim!.body) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content
      expect(content).toBe(fakeChatAnswer(JSON.parse(victimBody)))

      const calls = fake.calls
      const attackCalls = calls.filter((call) => call.path === attackPath)
      if (attack.forwardedBody === undefined) expect(attackCalls).toEqual([])
      else expect(attackCalls.map((call) => [call.method, call.rawBody])).toEqual([[method, attack.forwardedBody]])
      expect(calls.filter((call) => call.path === '/v1/smuggled')).toEqual([])
      // Only as the caller's own pipelined request, on its own credentials, does the hidden chat call reach the upstream.
      const poisons = calls.filter(isPoison)
      expect(poisons.map((call) => call.headers['authorization'])).toEqual(form === 'content-length smaller than sent' ? ['Bearer sk-attacker'] : [])
      expect(calls.filter((call) => call.rawBody.includes('sk-victim'))).toEqual([])
      const victimCalls = calls.filter((call) => call.headers['authorization'] === 'Bearer sk-victim')
      expect(victimCalls.map((call) => [call.method, call.path, call.rawBody])).toEqual([['POST', '/v1/chat/completions', victimBody]])
    })
  })
}
