import { createHash, timingSafeEqual } from 'node:crypto'
import express, { type Router } from 'express'
import type { AiCache } from '@aicache/express'

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function error(message: string, type: string, code: string) {
  return { error: { message, type, code, param: null } }
}

/**
 * `GET /aicache/stats` and `POST /aicache/invalidate`, both behind the admin
 * token as a bearer. Comparing digests in constant time keeps the token's
 * length and content from leaking through response timing.
 */
export function adminRouter(engine: AiCache, adminToken: string): Router {
  const expected = digest(`Bearer ${adminToken}`)
  const router = express.Router()
  router.use('/aicache', (req, res, next) => {
    const given = digest(req.get('authorization') ?? '')
    if (timingSafeEqual(given, expected)) return next()
    res.status(401).json(error('The admin routes need the admin token as a bearer.', 'invalid_request_error', 'invalid_admin_token'))
  })
  router.get('/aicache/stats', (_req, res) => {
    res.json(engine.stats())
  })
  router.post('/aicache/invalidate', express.json(), async (req, res) => {
    const namespace = (req.body as { namespace?: unknown } | undefined)?.namespace
    if (namespace !== undefined && (typeof namespace !== 'string' || namespace === '')) {
      res.status(400).json(error("'namespace' must be a non-empty string.", 'invalid_request_error', 'invalid_type'))
      return
    }
    await engine.invalidate({ namespace })
    res.json({ invalidated: namespace ?? engine.options.namespace })
  })
  return router
}
