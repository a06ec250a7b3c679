/**
 * Baseline: Express parsing the JSON body and sending the upstream's answer
 * from memory, i.e. the least any Express cache can do on a hit.
 */
import express from 'express'
import { CHAT_COMPLETIONS_PATH } from '../workload.js'
import { fetchAnswerBytes } from './answer-bytes.js'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const answerBytes = await fetchAnswerBytes(upstreamUrl())
const app = express()
app.post(CHAT_COMPLETIONS_PATH, express.json({ limit: '4mb' }), (_request, response) => {
  response.type('application/json').send(answerBytes)
})
await serve(app)
