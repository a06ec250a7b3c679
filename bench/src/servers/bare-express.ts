/**
 * Baseline: Express parsing the JSON body and sending the upstream's answer
 * from memory, i.e. the least any Express cache can do on a hit.
 */
import express from 'express'
import { benchRequest } from '../workload.js'
import { fetchAnswerBytes } from './answer-bytes.js'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const app = express()
// The chat route first, as before; the Responses and Messages routes answer their own format's bytes the same way.
const requests = (['chat', 'responses', 'messages'] as const).map((format) => benchRequest(format))
const answers = await Promise.all(requests.map((request) => fetchAnswerBytes(upstreamUrl(), request)))
requests.forEach((request, index) => {
  const answerBytes = answers[index]!
  app.post(request.path, express.json({ limit: '4mb' }), (_request, response) => {
    response.type('application/json').send(answerBytes)
  })
})
await serve(app)
