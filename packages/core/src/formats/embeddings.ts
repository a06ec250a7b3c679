import { checkField, requireField } from '../request/validate.js'
import { genAiOperationName } from '../telemetry/names.js'
import type { AnswerDescription, ApiFormat } from './format.js'
import { parseJsonAnswer } from './format.js'
import { addPromptText, modelOf, openAiProviderName, usageOf } from './openai.js'

/** OpenAI embeddings: `POST /v1/embeddings`, `input` in, `data[].embedding` out; never streamed. */
export const embeddings: ApiFormat<'embeddings'> = {
  id: 'embeddings',
  paths: ['/v1/embeddings'],
  urlSuffix: '/embeddings',
  genAiOperation: genAiOperationName.embeddings,
  requestSpanName: `aicache ${genAiOperationName.embeddings}`,
  providerName: openAiProviderName,
  recognizes: (body) => body['input'] !== undefined,
  validate(body) {
    requireField('input', body['input'])
    checkField('input', body['input'], ['string', 'array'])
  },
  promptText(body) {
    const parts: string[] = []
    addPromptText(parts, body['input'])
    return parts.join('\n')
  },
  framingTokens: () => 0,
  // Embeddings generate nothing.
  maxOutputTokens: () => 0,
  parseAnswer: parseJsonAnswer,
  hasAnswerShape: (answer) => Array.isArray(answer['data']),
  describeAnswer(answer): AnswerDescription {
    const model = modelOf(answer)
    const usage = usageOf(answer['usage'])
    return { ...(model === undefined ? {} : { model }), ...(usage === undefined ? {} : { usage }) }
  },
  outputText: () => '',
}
