/**
 * Baseline of stream replay: Express parsing the JSON body and sending a
 * recorded stream from memory, i.e. the bytes and headers aicache sent on a
 * hit, captured once by the runner. What any replay from memory must do.
 */
import { readFileSync } from 'node:fs'
import express from 'express'
import { CHAT_COMPLETIONS_PATH } from '../workload.js'
import { assertEntryScript } from './entry-script.js'
import { REPLAY_BODY_FILE_VARIABLE, REPLAY_HEADERS_VARIABLE, requiredVariable } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const replayBytes = readFileSync(requiredVariable(REPLAY_BODY_FILE_VARIABLE))
const replayHeaders = { ...(JSON.parse(requiredVariable(REPLAY_HEADERS_VARIABLE)) as Record<string, string>), 'content-length': String(replayBytes.length) }
const app = express()
app.post(CHAT_COMPLETIONS_PATH, express.json({ limit: '4mb' }), (_request, response) => {
  response.writeHead(200, replayHeaders)
  response.end(replayBytes)
})
await serve(app)
