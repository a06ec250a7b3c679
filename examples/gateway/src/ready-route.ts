import express, { type Router } from 'express'
import type { AiCache } from '@aicache/express'

/**
 * `GET /aicache/ready`, without a token, for load balancers and Kubernetes
 * readiness probes: 503 until `engine.ready()` resolved (Redis connected or
 * given up on, and the warm-up from Redis done or timed out), then 200.
 */
export function readyRouter(engine: AiCache): Router {
  let ready = false
  void engine.ready().then(() => (ready = true))
  const router = express.Router()
  router.get('/aicache/ready', (_req, res) => {
    res.set('cache-control', 'no-store')
    const warmUp = engine.warmUpReport
    res.status(ready ? 200 : 503).json({ ready, ...(warmUp && { warmUp }) })
  })
  return router
}
