/** aicache's Fastify plugin in proxy mode (it registers the /v1 routes), in front of the fake upstream. */
import { aiCache } from '@aicache/fastify'
import Fastify from 'fastify'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serveFastify } from './serve-fastify.js'

assertEntryScript(import.meta.url)
const app = Fastify()
await app.register(aiCache, { upstream: upstreamUrl() })
await serveFastify(app)
