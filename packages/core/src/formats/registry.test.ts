import { describe, expect, it } from 'vitest'
import { chatCompletions } from './chat-completions.js'
import { completions } from './completions.js'
import { embeddings } from './embeddings.js'
import { responses } from './responses.js'
import { anthropicMessages } from './anthropic-messages.js'
import { apiFormats, formatOfBody, formatOfPath, formatOfUrlPath, gatewayPaths, isLlmCall, providerFormatOf } from './registry.js'

describe('formatOfPath', () => {
  it("resolves every registered format's paths to that format, with or without a trailing slash", () => {
    for (const format of apiFormats) {
      for (const path of format.paths) {
        expect(formatOfPath(path)).toBe(format)
        expect(formatOfPath(`${path}/`)).toBe(format)
      }
    }
    expect(formatOfPath('/v1/chat/completions')?.id).toBe('chat')
    expect(formatOfPath('/v1/completions')?.id).toBe('completion')
    expect(formatOfPath('/v1/embeddings')?.id).toBe('embeddings')
    expect(formatOfPath('/v1/responses')?.id).toBe('responses')
    expect(formatOfPath('/v1/messages')?.id).toBe('messages')
  })

  it("leaves Anthropic's other message routes to pass through, to Anthropic's upstream", () => {
    for (const path of ['/v1/messages/count_tokens', '/v1/messages/batches', '/v1/messages/batches/msgbatch_1/results']) {
      expect(formatOfPath(path)).toBeUndefined()
      expect(providerFormatOf(path, {})).toBe(anthropicMessages)
    }
    expect(providerFormatOf('/v1/models', { 'anthropic-version': '2023-06-01' })).toBe(anthropicMessages)
    expect(providerFormatOf('/v1/models', { authorization: 'Bearer sk' })).toBeUndefined()
    expect(providerFormatOf('/v1/messagesx', {})).toBeUndefined()
  })

  it("leaves a stored response's routes and conversations to pass through", () => {
    for (const path of [
      '/v1/responses/resp_1',
      '/v1/responses/resp_1/cancel',
      '/v1/responses/resp_1/input_items',
      '/v1/conversations',
      '/v1/conversations/conv_1/items',
    ]) {
      expect(formatOfPath(path)).toBeUndefined()
    }
  })

  it('knows no other path, whatever property names it spells', () => {
    for (const path of ['/v1/models', '/v1/chat', '/v1/', '/', 'constructor', '__proto__', '/v1/CHAT/COMPLETIONS', '/v2/chat/completions', 'v1/embeddings']) {
      expect(formatOfPath(path)).toBeUndefined()
    }
  })

  it('lists every path of every format once, for adapters that register routes', () => {
    expect(gatewayPaths).toEqual(['/v1/chat/completions', '/v1/completions', '/v1/embeddings', '/v1/responses', '/v1/messages'])
    expect(new Set(gatewayPaths).size).toBe(gatewayPaths.length)
  })
})

describe('formatOfUrlPath', () => {
  it('matches the end of a client-mode path, whatever base path the client puts in front', () => {
    expect(formatOfUrlPath('/v1/chat/completions')).toBe(chatCompletions)
    expect(formatOfUrlPath('/openai/deployments/x/chat/completions')).toBe(chatCompletions)
    expect(formatOfUrlPath('/openai/deployments/x/chat/completions/')).toBe(chatCompletions)
    expect(formatOfUrlPath('/v1/completions')).toBe(completions)
    expect(formatOfUrlPath('/openai/deployments/x/completions')).toBe(completions)
    expect(formatOfUrlPath('/api/v1/embeddings')).toBe(embeddings)
    expect(formatOfUrlPath('/v1/responses')).toBe(responses)
    expect(formatOfUrlPath('/openai/v1/responses/')).toBe(responses)
    expect(formatOfUrlPath('/v1/messages')).toBe(anthropicMessages)
    expect(formatOfUrlPath('/anthropic/v1/messages/')).toBe(anthropicMessages)
  })

  it("does not take Anthropic's count_tokens and batches, nor OpenAI's thread messages, for a Messages call", () => {
    for (const path of ['/v1/messages/count_tokens', '/v1/messages/batches', '/v1/threads/thread_1/messages', '/openai/threads/thread_1/messages/']) {
      expect(formatOfUrlPath(path)).toBeUndefined()
    }
  })

  it("does not take a stored response's routes or conversations for a Responses call", () => {
    for (const path of [
      '/v1/responses/resp_1',
      '/v1/responses/resp_1/cancel',
      '/v1/responses/resp_1/input_items',
      '/v1/conversations',
      '/v1/conversations/conv_1',
    ]) {
      expect(formatOfUrlPath(path)).toBeUndefined()
    }
  })

  it('prefers the longer suffix: a chat path is never read as a completions one', () => {
    for (const format of apiFormats) expect(formatOfUrlPath(`/base${format.urlSuffix}`)).toBe(format)
  })

  it('knows no other path', () => {
    for (const path of ['/v1/models', '/v1/chat', '/v1/embeddings/x', '/v1/files', '/', '/v1/chat/completionsx']) {
      expect(formatOfUrlPath(path)).toBeUndefined()
    }
  })
})

describe('formatOfBody', () => {
  it('recognises a body by its fields, in registry order', () => {
    expect(formatOfBody({ messages: [] })).toBe(chatCompletions)
    expect(formatOfBody({ prompt: 'x' })).toBe(completions)
    expect(formatOfBody({ input: 'x' })).toBe(embeddings)
    expect(formatOfBody({ messages: [], input: 'x' })).toBe(chatCompletions)
    // A body with `input` stays an embeddings one: Responses bodies are recognised by their path only.
    expect(formatOfBody({ input: 'x', instructions: 'y' })).toBe(embeddings)
  })

  it('recognises nothing else', () => {
    for (const body of [null, 'x', [{ messages: [] }], {}, { messages: 'x' }, { title: 'todo' }]) expect(formatOfBody(body)).toBeUndefined()
  })

  it('takes only a string model and a recognised body for an LLM call', () => {
    expect(isLlmCall({ model: 'gpt-4o', messages: [] })).toBe(true)
    expect(isLlmCall({ messages: [] })).toBe(false)
    expect(isLlmCall({ model: 'gpt-4o', title: 'todo' })).toBe(false)
  })
})

describe('apiFormats', () => {
  it('gives every format its own id, paths and suffix, and the names telemetry records', () => {
    expect(new Set(apiFormats.map((format) => format.id)).size).toBe(apiFormats.length)
    expect(new Set(apiFormats.map((format) => format.urlSuffix)).size).toBe(apiFormats.length)
    for (const format of apiFormats) {
      for (const path of format.paths) expect(path.endsWith(format.urlSuffix)).toBe(true)
      expect(format.requestSpanName).toBe(`aicache ${format.genAiOperation}`)
    }
    expect(apiFormats.map((format) => format.genAiOperation)).toEqual(['chat', 'text_completion', 'embeddings', 'chat', 'chat'])
  })
})
