import type { JsonObject } from './json.js'

/** A Responses API answer kept for `GET /v1/responses/{id}` and its sub-routes, as the real API stores them. */
export interface StoredResponse {
  /** The response as it is (or will be, for a background response) when finished. */
  response: JsonObject
  /** The request's input as items with ids, oldest first. */
  inputItems: JsonObject[]
  background: boolean
  /** 'queued' until a background response is first retrieved, 'cancelled' once cancelled before that. */
  pending: 'queued' | 'cancelled' | undefined
}

/** What the fake remembers between calls: stored responses and Anthropic's prompt cache. Reset with the fake. */
export class FakeMemory {
  readonly responses = new Map<string, StoredResponse>()
  /** Keys of prompt prefixes written to the Anthropic prompt cache (model and prefix). */
  readonly promptCache = new Set<string>()

  clear(): void {
    this.responses.clear()
    this.promptCache.clear()
  }
}
