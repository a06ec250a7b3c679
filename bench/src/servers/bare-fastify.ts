/**
 * Baseline for the Fastify adapter: Fastify parsing the JSON body with its
 * own parser and answering with the upstream's bytes from memory.
 */
import Fastify from 'fastify'
import { CHAT_COMPLETIONS_PATH } from '../workload.js'
import { fetchAnswerBytes } from './answer-bytes.js'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serveFastify } from './serve-fastify.js'

assertEntryScript(import.meta.url)
const answerBytes = await fetchAnswerBytes(upstreamUrl())
// The same body limit as aicache's default maxBodyBytes (4 MiB).
const app = Fastify({ bodyLimit: 4 * 1024 * 1024 })
app.post(CHAT_COMPLETIONS_PATH, (_request, reply) => {
  reply.type('application/json').send(answerBytes)
})
await serveFastify(app)
