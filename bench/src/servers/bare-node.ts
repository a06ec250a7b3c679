/**
 * Ceiling: plain node:http reading the body and writing the upstream's answer
 * from memory, with no framework at all.
 */
import { fetchAnswerBytes } from './answer-bytes.js'
import { assertEntryScript } from './entry-script.js'
import { upstreamUrl } from './environment.js'
import { serve } from './serve.js'

assertEntryScript(import.meta.url)
const answerBytes = await fetchAnswerBytes(upstreamUrl())
const answerLength = String(answerBytes.length)
await serve((request, response) => {
  // The body is read to the end, as any real handler must, but not parsed.
  request.resume()
  request.once('end', () => {
    response.writeHead(200, { 'content-type': 'application/json', 'content-length': answerLength })
    response.end(answerBytes)
  })
})
