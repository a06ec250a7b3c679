import { checkField, requireField } from '../request/validate.js'
import { genAiOperationName } from '../telemetry/names.js'
import { choicesText, choiceStream, describeChoices, hasChoices } from './choice-stream.js'
import { type ApiFormat, parseJsonAnswer } from './format.js'
import { addPromptText, maxGeneratedTokens, openAiProviderName } from './openai.js'

/** OpenAI (legacy) completions: `POST /v1/completions`, `prompt` in, `choices[].text` out. */
export const completions: ApiFormat<'completion'> = {
  id: 'completion',
  paths: ['/v1/completions'],
  urlSuffix: '/completions',
  genAiOperation: genAiOperationName.textCompletion,
  requestSpanName: `aicache ${genAiOperationName.textCompletion}`,
  providerName: openAiProviderName,
  recognizes: (body) => body['prompt'] !== undefined,
  validate(body) {
    requireField('prompt', body['prompt'])
    checkField('prompt', body['prompt'], ['string', 'array'])
  },
  promptText(body) {
    const parts: string[] = []
    addPromptText(parts, body['prompt'])
    return parts.join('\n')
  },
  framingTokens: () => 0,
  maxOutputTokens: maxGeneratedTokens,
  parseAnswer: parseJsonAnswer,
  hasAnswerShape: hasChoices,
  describeAnswer: describeChoices,
  outputText: choicesText,
  stream: choiceStream,
}
