/** aicache's Express adapter in proxy mode, in front of the fake upstream. */
import { aiCache } from '@aicache/express'
import express from 'express'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const app = express()
app.use(aiCache({ upstream: upstreamUrl() }))
await serve(app)
