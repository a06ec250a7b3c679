/**
 * Baseline for the Koa adapter: Koa with `@koa/bodyparser` parsing the JSON
 * body and `@koa/router` answering with the upstream's bytes from memory.
 */
import { bodyParser } from '@koa/bodyparser'
import Router from '@koa/router'
import Koa, { type Context } from 'koa'
import { CHAT_COMPLETIONS_PATH } from '../workload.js'
import { fetchAnswerBytes } from './answer-bytes.js'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const answerBytes = await fetchAnswerBytes(upstreamUrl())
const router = new Router()
router.post(CHAT_COMPLETIONS_PATH, (ctx: Context) => {
  ctx.type = 'application/json'
  ctx.body = answerBytes
})
const app = new Koa()
app.use(bodyParser({ jsonLimit: '4mb' }))
app.use(router.routes())
await serve(app.callback())
