/** aicache's Koa adapter in proxy mode, in front of the fake upstream. */
import { aiCache } from '@aicache/koa'
import Koa from 'koa'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const app = new Koa()
app.use(aiCache({ upstream: upstreamUrl() }))
await serve(app.callback())
