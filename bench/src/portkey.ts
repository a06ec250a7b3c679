/**
 * Portkey's open-source gateway (`@portkey-ai/gateway` from npm) as a peer:
 * started in its own process like the bench servers, pointed at the fake
 * upstream per request with its headers.
 */
import { readFileSync } from 'node:fs'
import { type BenchServer, startBenchServer } from './bench-server.js'
import type { FakeUpstreamProcess } from './fake-upstream.js'
import { sendChatRequest } from './probe.js'
import { REQUEST_HEADERS } from './workload.js'

export const PORTKEY = 'portkey-gateway'

/** The published version installed in the bench, e.g. '1.15.2'. */
export function portkeyVersion(): string {
  try {
    const path = new URL('../node_modules/@portkey-ai/gateway/package.json', import.meta.url)
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? '?'
  } catch {
    return '?'
  }
}

/** Starts the gateway; it needs no configuration, requests carry it. */
export function startPortkey(upstreamUrl: string): Promise<BenchServer> {
  return startBenchServer('portkey-gateway', upstreamUrl)
}

/** The benchmark headers plus Portkey's: provider openai, at the fake upstream's URL, and any `config`. */
export function portkeyHeaders(upstreamUrl: string, config?: object): Record<string, string> {
  return {
    ...REQUEST_HEADERS,
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': upstreamUrl,
    ...(config === undefined ? {} : { 'x-portkey-config': JSON.stringify(config) }),
  }
}

/** What happened to two identical requests sent with Portkey's cache turned on. */
export interface PortkeyCacheCheck {
  upstreamCalls: number
  /** `x-portkey-cache-status` of the second answer. */
  cacheStatus: string
}

/**
 * Sends the same request twice with `cache: { mode: 'simple' }` in Portkey's
 * config and counts the upstream calls: 1 means it answered the second from
 * a cache, 2 that it has none.
 */
export async function checkPortkeyCache(portkey: BenchServer, fake: FakeUpstreamProcess, body: string): Promise<PortkeyCacheCheck> {
  const headers = portkeyHeaders(fake.url, { cache: { mode: 'simple', max_age: 3600 } })
  await fake.reset()
  await sendChatRequest(portkey.origin, body, headers)
  const second = await sendChatRequest(portkey.origin, body, headers)
  if (second.status !== 200) throw new Error(`${PORTKEY} answered ${second.status}: ${second.bodyText.slice(0, 300)}`)
  return { upstreamCalls: await fake.callCount(), cacheStatus: second.headers.get('x-portkey-cache-status') ?? '(none)' }
}
