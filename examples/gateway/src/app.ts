import express, { type ErrorRequestHandler, type Express } from 'express'
import { type AiCache, aiCache } from '@aicache/express'
import { adminRouter } from './admin.js'
import { readyRouter } from './ready-route.js'

/**
 * The gateway app: the readiness route, admin routes (with a token), aicache in proxy mode, and
 * OpenAI-style answers for everything else.
 */
export function createGatewayApp(engine: AiCache, adminToken: string | undefined): Express {
  const app = express()
  app.disable('x-powered-by')
  // Before the admin routes: probes send no token.
  app.use(readyRouter(engine))
  if (adminToken) app.use(adminRouter(engine, adminToken))
  app.use(aiCache(engine))
  app.use((req, res) => {
    res.status(404).json({
      error: { message: `No route ${req.method} ${req.path}.`, type: 'invalid_request_error', code: 'not_found', param: null },
    })
  })
  const onError: ErrorRequestHandler = (error: { status?: number; message?: string }, req, res, _next) => {
    const status = error.status && error.status >= 400 && error.status < 600 ? error.status : 500
    // Every 500 is logged with its cause; never the body or headers, which may hold prompts and keys.
    // Stack and message only: some errors carry the request body as a property.
    if (status >= 500) console.error(`aicache gateway: ${status} answering ${req.method} ${req.path}: ${(error as Error).stack ?? String(error)}`)
    res.status(status).json({
      error: { message: status < 500 ? String(error.message) : 'Internal error', type: 'api_error', code: null, param: null },
    })
  }
  app.use(onError)
  return app
}
