/** The OpenAI-compatible calls aicache caches. */
export type Operation = 'chat' | 'completion' | 'embeddings'

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

/** The operation of a gateway path, or `undefined` for any other path. */
export function operationOfPath(path: string): Operation | undefined {
  // Compared, not looked up in an object: a request's path is a new string,
  // and using it as a property name first looks it up in V8's string table.
  switch (trimSlash(path)) {
    case '/v1/chat/completions':
      return 'chat'
    case '/v1/completions':
      return 'completion'
    case '/v1/embeddings':
      return 'embeddings'
    default:
      return undefined
  }
}

/**
 * The operation of a client-mode URL path: clients put their own base path
 * in front (`/v1`, `/openai/deployments/x`), so only the end counts.
 */
export function operationOfUrlPath(path: string): Operation | undefined {
  const trimmed = trimSlash(path)
  if (trimmed.endsWith('/chat/completions')) return 'chat'
  if (trimmed.endsWith('/completions')) return 'completion'
  if (trimmed.endsWith('/embeddings')) return 'embeddings'
  return undefined
}

/** The operation an app's own JSON body looks like, in wrap mode. */
export function operationOfBody(body: unknown): Operation | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined
  const record = body as Record<string, unknown>
  if (Array.isArray(record['messages'])) return 'chat'
  if (record['prompt'] !== undefined) return 'completion'
  if (record['input'] !== undefined) return 'embeddings'
  return undefined
}

/**
 * Whether an app's own JSON body is unmistakably an LLM call: a string
 * `model` with `messages`, `prompt` or `input` (see {@link operationOfBody}).
 * What wrap mode caches when it is mounted for every route of an app.
 */
export function isLlmCall(body: unknown): boolean {
  return operationOfBody(body) !== undefined && typeof (body as Record<string, unknown>)['model'] === 'string'
}
