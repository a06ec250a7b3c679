import { createHash, timingSafeEqual } from 'node:crypto'
import express, { type ErrorRequestHandler, type Response, type Router } from 'express'
import type { AiCache } from '@aicache/express'
import { warmBodyLimit, warmHandler } from './warm-route.js'

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function error(message: string, code: string, param: string | null = null) {
  return { error: { message, type: 'invalid_request_error', code, param } }
}

/** What `POST /aicache/invalidate` was asked to do. */
type InvalidateTarget = { namespace: string } | { all: true }

const howToInvalidate = 'Send {"namespace": "<name>"} to invalidate one namespace, or {"all": true} for every namespace.'

/**
 * The body of `POST /aicache/invalidate`, read as JSON whatever its
 * `Content-Type`, or the 400 to answer. Nothing is invalidated by default:
 * an empty body is a mistake, not a request to invalidate `default`.
 */
function invalidateTarget(raw: Buffer): InvalidateTarget | ReturnType<typeof error> {
  if (raw.byteLength === 0) return error(`The request body is empty. ${howToInvalidate}`, 'invalid_json')
  let body: unknown
  try {
    body = JSON.parse(raw.toString('utf8'))
  } catch (cause) {
    return error(`The request body is not valid JSON: ${(cause as Error).message}`, 'invalid_json')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return error(`The request body must be a JSON object. ${howToInvalidate}`, 'invalid_type')
  }
  const { namespace, all } = body as { namespace?: unknown; all?: unknown }
  if (all !== undefined && all !== true) return error("'all' must be true when given.", 'invalid_value', 'all')
  if (all === true && namespace !== undefined) return error("Send either 'namespace' or 'all', not both.", 'invalid_value', 'all')
  if (all === true) return { all: true }
  if (namespace === undefined) return error(`Say what to invalidate. ${howToInvalidate}`, 'missing_field', 'namespace')
  if (typeof namespace !== 'string' || namespace === '' || namespace === '*') {
    return error('\'namespace\' must be a non-empty string (use {"all": true} for every namespace).', 'invalid_type', 'namespace')
  }
  return { namespace }
}

/**
 * `GET /aicache/stats`, `GET /aicache/capacity`, `POST /aicache/invalidate` and `POST /aicache/warm`, all behind the admin
 * token as a bearer. Comparing digests in constant time keeps the token's
 * length and content from leaking through response timing.
 */
export function adminRouter(engine: AiCache, adminToken: string): Router {
  const expected = digest(`Bearer ${adminToken}`)
  const router = express.Router()
  router.use('/aicache', (req, res, next) => {
    const given = digest(req.get('authorization') ?? '')
    if (timingSafeEqual(given, expected)) return next()
    res.status(401).json(error('The admin routes need the admin token as a bearer.', 'invalid_admin_token'))
  })
  router.get('/aicache/stats', (_req, res) => {
    res.json(engine.stats())
  })
  // The load forecast and recommendation, for people and scripts (autoscalers read the metrics).
  router.get('/aicache/capacity', (_req, res) => {
    const report = engine.capacity()
    if (report === undefined) res.status(404).json(error('The capacity forecast is off: set the capacity option (AICACHE_CAPACITY=on).', 'capacity_off'))
    else res.json(report)
  })
  const readBody = express.raw({ type: () => true, limit: '16kb' })
  // The body parser's own errors (too large, bad encoding) in the same OpenAI shape as the rest.
  const bodyFailed: ErrorRequestHandler = (failure: { status?: number; message?: string }, _req, res: Response, _next) => {
    const status = failure.status === 413 ? 413 : 400
    res.status(status).json(error(String(failure.message), status === 413 ? 'body_too_large' : 'invalid_body'))
  }
  router.post('/aicache/invalidate', readBody, async (req, res) => {
    const target = invalidateTarget(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0))
    if ('error' in target) {
      res.status(400).json(target)
      return
    }
    await engine.invalidate(target)
    res.json({ invalidated: 'all' in target ? '*' : target.namespace })
  })
  router.use('/aicache/invalidate', bodyFailed)
  router.post('/aicache/warm', express.raw({ type: () => true, limit: warmBodyLimit }), warmHandler(engine))
  router.use('/aicache/warm', bodyFailed)
  return router
}
