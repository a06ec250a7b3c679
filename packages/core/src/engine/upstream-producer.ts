import type { ExchangeRequest, Outcome } from '../exchange/types.js'
import { rescued } from '../freshness/stale-answer.js'
import { Production } from '../flight/production.js'
import type { Claim } from '../tiers/claims.js'
import type { TieredCache } from '../tiers/tiered-cache.js'
import { type ApiKeyHeader, forwardRequestHeaders } from '../upstream/headers.js'
import { upstreamPathOf } from '../upstream/upstream-path.js'
import type { Upstream, UpstreamResponse } from '../upstream/types.js'
import type { UpstreamTarget } from '../telemetry/telemetry.js'
import { followProduction } from './follow.js'
import { streamOutcome, withHeaders } from './outcomes.js'
import { forwardedBody } from './passthrough-body.js'
import type { PreparedRequest } from './prepare.js'
import { keeperOf, type Miss, type Producer, type Refresh } from './producer.js'
import { type PumpJob, pumpUpstream, upstreamTarget } from './pump.js'

// A call several requests wait on is not stopped when one of them leaves; the upstream's timeout bounds it.
const neverAborted = new AbortController().signal

/** What {@link UpstreamProducer} is made with. */
export interface UpstreamProducerOptions {
  upstream: Upstream
  /** Replaces the caller's credential on the way upstream, when set. */
  upstreamApiKey: string | undefined
  /** The header the upstream reads its key from. @default 'authorization' */
  apiKeyHeader?: ApiKeyHeader
  /** The upstream's base URL, named on the GenAI span (else the request's own URL). */
  upstreamUrl: URL | undefined
  tiers: TieredCache
}

/**
 * Proxy and client mode: a miss is answered by the upstream. The call is
 * made in the background ({@link pumpUpstream}), after cross-instance
 * single-flight, and this request follows it like any other.
 */
export class UpstreamProducer implements Producer {
  readonly stopsWhenAbandoned = true
  readonly #upstream: Upstream
  readonly #upstreamApiKey: string | undefined
  readonly #apiKeyHeader: ApiKeyHeader
  readonly #upstreamUrl: URL | undefined
  readonly #claim: (key: string) => Promise<Claim>
  readonly #keep: PumpJob['keep']

  constructor(options: UpstreamProducerOptions) {
    const { tiers } = options
    this.#upstream = options.upstream
    this.#upstreamApiKey = options.upstreamApiKey
    this.#apiKeyHeader = options.apiKeyHeader ?? 'authorization'
    this.#upstreamUrl = options.upstreamUrl
    this.#claim = (key) => tiers.claim(key)
    this.#keep = keeperOf(tiers)
  }

  async produce(miss: Miss): Promise<Outcome> {
    const { request, prepared, observation, production } = miss
    void pumpUpstream({
      request,
      prepared,
      upstream: this.#upstream,
      upstreamApiKey: this.#upstreamApiKey,
      apiKeyHeader: this.#apiKeyHeader,
      production,
      signal: miss.signal,
      plan: miss.plan,
      startCall: () => observation.upstream(upstreamTarget(request, prepared, this.#upstreamUrl)),
      onRemoteAnswer: () => (observation.result = 'coalesced'),
      claim: this.#claim,
      keep: this.#keep,
    })
    const followed = await rescued(followProduction(prepared, production, { reason: miss.reason }), miss.rescue)
    return observation.settle(withHeaders(followed, miss.rateLimitHeaders))
  }

  /**
   * A call of the engine's own making with this request's URL and
   * credential (the per-input embeddings cache sends only the inputs it
   * misses). Resolves with the response, its body unread.
   */
  send(request: ExchangeRequest, body: Buffer): Promise<UpstreamResponse> {
    const headers = forwardRequestHeaders(request.headers, this.#upstreamApiKey)
    headers['content-type'] = 'application/json'
    return this.#upstream.send({ method: 'POST', url: request.url, headers, body, signal: neverAborted })
  }

  /** Where this request's calls go, for the GenAI span. */
  targetOf(request: ExchangeRequest, prepared: PreparedRequest): UpstreamTarget {
    return upstreamTarget(request, prepared, this.#upstreamUrl)
  }

  async refresh(refresh: Refresh): Promise<{ stored: boolean }> {
    const { request, prepared, lock } = refresh
    const production = new Production()
    await pumpUpstream({
      request,
      prepared,
      upstream: this.#upstream,
      upstreamApiKey: this.#upstreamApiKey,
      apiKeyHeader: this.#apiKeyHeader,
      production,
      signal: refresh.signal,
      plan: refresh.plan,
      startCall: () => refresh.startCall(upstreamTarget(request, prepared, this.#upstreamUrl)),
      onRemoteAnswer: () => {},
      claim: async () => ({ lock }),
      keep: this.#keep,
    })
    return production.result().then(
      (result) => ({ stored: result.stored }),
      () => ({ stored: false }),
    )
  }

  async bypass(request: ExchangeRequest, prepared: PreparedRequest): Promise<Outcome> {
    const response = await this.#upstream.send({
      method: request.method,
      url: request.url,
      headers: forwardRequestHeaders(request.headers, this.#upstreamApiKey, this.#apiKeyHeader),
      body: prepared.raw,
      signal: request.signal,
    })
    return streamOutcome(response, { reason: 'request', detail: 'no-store' })
  }

  /**
   * Any other `/v1/` route: forwarded untouched and uncached, after checking
   * that its path stays under the upstream's base path and framing its body
   * exactly (docs/security.md).
   */
  async passThrough(request: ExchangeRequest, serialiseParsed: (parsed: unknown) => Buffer): Promise<Outcome> {
    // Refused here, before the body is touched or the upstream's breaker sees it.
    upstreamPathOf('', request.url)
    const { body, bodyLength } = forwardedBody(request, serialiseParsed)
    const response = await this.#upstream.send({
      method: request.method,
      url: request.url,
      headers: forwardRequestHeaders(request.headers, this.#upstreamApiKey, this.#apiKeyHeader),
      body,
      bodyLength,
      signal: request.signal,
    })
    return streamOutcome(response, { reason: 'bypass' })
  }
}
