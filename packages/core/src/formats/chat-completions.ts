import { AiCacheError } from '../errors.js'
import { checkField, requireField } from '../request/validate.js'
import { genAiOperationName } from '../telemetry/names.js'
import { choicesText, choiceStream, describeChoices, hasChoices } from './choice-stream.js'
import { type ApiFormat, parseJsonAnswer } from './format.js'
import { lastUserTurn } from './last-user-turn.js'
import { addPromptText, maxGeneratedTokens, openAiProviderName } from './openai.js'

// OpenAI's chat format wraps each message in a few tokens of its own, and
// primes the reply with 3 more (the openai-cookbook counting recipe).
const tokensPerMessage = 3
const replyPrimingTokens = 3

const chatTextParts: ReadonlySet<string> = new Set(['text'])

function validateMessages(messages: unknown): void {
  requireField('messages', messages)
  checkField('messages', messages, ['array'])
  const list = messages as unknown[]
  if (list.length === 0) {
    throw new AiCacheError('invalid_value', "Invalid 'messages': empty array. Expected at least one message.", {
      param: 'messages',
    })
  }
  list.forEach((message, index) => {
    const param = `messages[${index}]`
    checkField(param, message, ['object'])
    const record = message as Record<string, unknown>
    requireField(`${param}.role`, record['role'])
    checkField(`${param}.role`, record['role'], ['string'])
    checkField(`${param}.content`, record['content'], ['string', 'array', 'null'])
  })
}

/** OpenAI chat completions: `POST /v1/chat/completions`, `messages` in, `choices[].message` out. */
export const chatCompletions: ApiFormat<'chat'> = {
  id: 'chat',
  paths: ['/v1/chat/completions'],
  urlSuffix: '/chat/completions',
  genAiOperation: genAiOperationName.chat,
  requestSpanName: `aicache ${genAiOperationName.chat}`,
  providerName: openAiProviderName,
  recognizes: (body) => Array.isArray(body['messages']),
  validate: (body) => validateMessages(body['messages']),
  promptText(body) {
    const parts: string[] = []
    const messages = body['messages']
    if (Array.isArray(messages)) for (const message of messages) addPromptText(parts, (message as { content?: unknown } | null)?.content)
    return parts.join('\n')
  },
  framingTokens: (body) => (Array.isArray(body['messages']) ? body['messages'].length * tokensPerMessage + replyPrimingTokens : 0),
  maxOutputTokens: maxGeneratedTokens,
  parseAnswer: parseJsonAnswer,
  // The last message, when it is the user's and text only, is compared by meaning; the rest must be identical.
  semanticQuery: (body) => lastUserTurn(body, 'messages', chatTextParts, (message) => message['role'] === 'user'),
  hasAnswerShape: hasChoices,
  describeAnswer: describeChoices,
  outputText: choicesText,
  stream: choiceStream,
}
