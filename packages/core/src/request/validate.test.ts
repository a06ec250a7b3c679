import { describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import { chatCompletions } from '../formats/chat-completions.js'
import { completions } from '../formats/completions.js'
import { embeddings } from '../formats/embeddings.js'
import { validateRequest } from './validate.js'

function failure(run: () => unknown): AiCacheError {
  try {
    run()
  } catch (error) {
    if (error instanceof AiCacheError) return error
    throw error
  }
  throw new Error('expected a validation error')
}

const formats = { chat: chatCompletions, completion: completions, embeddings }

describe('validateRequest', () => {
  it('accepts a chat call and reports model and stream', () => {
    expect(validateRequest(chatCompletions, { model: 'm', messages: [{ role: 'user', content: 'hi' }], stream: true })).toEqual({
      model: 'm',
      stream: true,
      includeUsage: false,
    })
  })

  it('lets unknown fields through: they only become part of the key', () => {
    expect(() => validateRequest(chatCompletions, { model: 'm', messages: [{ role: 'user', content: 'x' }], brand_new: 1 })).not.toThrow()
  })

  it.each([
    ['chat', { messages: [] }, 'model', 'missing_field'],
    ['chat', { model: 'm', messages: 'hello' }, 'messages', 'invalid_type'],
    ['chat', { model: 'm', messages: [] }, 'messages', 'invalid_value'],
    ['chat', { model: 'm', messages: [{ content: 'x' }] }, 'messages[0].role', 'missing_field'],
    ['chat', { model: 'm', messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', 'invalid_type'],
    ['chat', { model: 'm', messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }, 'temperature', 'invalid_type'],
    ['chat', { model: 'm', messages: [{ role: 'user', content: 'x' }], max_tokens: 1.5 }, 'max_tokens', 'invalid_type'],
    ['completion', { model: 'm' }, 'prompt', 'missing_field'],
    ['embeddings', { model: 'm', input: 3 }, 'input', 'invalid_type'],
  ] as const)('%s %j fails on %s', (operation, body, param, code) => {
    const error = failure(() => validateRequest(formats[operation], body))
    expect(error.param).toBe(param)
    expect(error.code).toBe(code)
    expect(error.message).toContain(param)
  })

  it('refuses a body that is not an object', () => {
    expect(failure(() => validateRequest(chatCompletions, [1, 2])).message).toMatch(/JSON object.*an array/)
  })
})
