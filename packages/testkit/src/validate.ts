import { isJsonObject } from './json.js'
import { openAIError } from './openai-error.js'
import { jsonReply, type Reply } from './reply.js'

interface FieldRule {
  field: string
  isValid: (value: unknown) => boolean
}

const isNonEmptyArray = (value: unknown): boolean => Array.isArray(value) && value.length > 0
const isTextOrArray = (value: unknown): boolean => typeof value === 'string' || Array.isArray(value)

const REQUIRED_FIELD_BY_PATH: Record<string, FieldRule> = {
  '/v1/chat/completions': { field: 'messages', isValid: isNonEmptyArray },
  '/v1/completions': { field: 'prompt', isValid: isTextOrArray },
  '/v1/embeddings': { field: 'input', isValid: isTextOrArray },
}

function badRequest(message: string, param: string | null): Reply {
  return jsonReply(400, openAIError(400, message, param))
}

/** The 400 answer OpenAI would give for this body, or undefined when the body is acceptable. */
export function validationError(path: string, body: unknown): Reply | undefined {
  if (!isJsonObject(body)) {
    return badRequest('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.', null)
  }
  if (typeof body['model'] !== 'string' || body['model'] === '') {
    return badRequest('You must provide a model parameter.', 'model')
  }
  const rule = REQUIRED_FIELD_BY_PATH[path]
  if (rule !== undefined && !rule.isValid(body[rule.field])) {
    return badRequest(`Missing required parameter: '${rule.field}'.`, rule.field)
  }
  return undefined
}
