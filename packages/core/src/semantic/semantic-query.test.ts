import { describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import { resolveRouteOptions } from '../exchange/route-options.js'
import { chatCompletions } from '../formats/chat-completions.js'
import { completions } from '../formats/completions.js'
import type { ApiFormat } from '../formats/format.js'
import { responses } from '../formats/responses.js'
import { resolveOptions } from '../options.js'
import { defaultSemanticJudge, defaultSemanticThreshold } from './judge-guarded.js'
import { resolveSemanticOptions } from './semantic-options.js'
import { semanticLookupOf, type SemanticRequest } from './semantic-query.js'

const embed = { id: 'test-embedder', embed: async (texts: readonly string[]) => texts.map(() => new Float32Array([1, 0])) }
const options = resolveSemanticOptions({ embed })!
const normalize = { whitespace: false, case: false }

function lookup(format: ApiFormat, body: unknown, request: Partial<SemanticRequest> = {}) {
  return semanticLookupOf(options, normalize, { format, body: () => body, headers: {}, scope: 'credential:a', namespace: 'default', generation: 0, ...request })
}

const chat = (last: unknown, earlier: object[] = [{ role: 'system', content: 'Be brief.' }], extra: object = {}) => ({
  model: 'gpt-4o-mini',
  messages: [...earlier, { role: 'user', content: last }],
  ...extra,
})

describe('the semantic split of a request', () => {
  it('compares the last user turn of a chat, text parts joined, and keys everything else as its context', () => {
    const plain = lookup(chatCompletions, chat('  What is a cache?  '))
    expect(plain?.text).toBe('What is a cache?')
    const parts = lookup(
      chatCompletions,
      chat([
        { type: 'text', text: 'What is' },
        { type: 'text', text: 'a cache?' },
      ]),
    )
    expect(parts?.text).toBe('What is\na cache?')
    expect(lookup(chatCompletions, chat('Something else entirely'))?.context).toBe(plain?.context)
    // What is delivered how, not what is asked, stays outside the context as it stays outside the key.
    expect(lookup(chatCompletions, chat('x', undefined, { stream: true, user: 'u-1' }))?.context).toBe(plain?.context)
  })

  it('changes the context with the system prompt, earlier turns, model, tools, format or sampling', () => {
    const base = lookup(chatCompletions, chat('hello'))!.context
    const variants = [
      chat('hello', [{ role: 'system', content: 'Be verbose.' }]),
      chat('hello', [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!' },
      ]),
      { ...chat('hello'), model: 'gpt-4o' },
      chat('hello', undefined, { temperature: 0.2 }),
      chat('hello', undefined, { tools: [{ type: 'function', function: { name: 'f' } }] }),
      chat('hello', undefined, { response_format: { type: 'json_object' } }),
    ]
    const contexts = new Set(variants.map((body) => lookup(chatCompletions, body)!.context))
    expect(contexts.size).toBe(variants.length)
    expect(contexts.has(base)).toBe(false)
    expect(lookup(chatCompletions, chat('hello'), { scope: 'credential:b' })!.context).not.toBe(base)
    expect(lookup(chatCompletions, chat('hello'), { namespace: 'other' })!.context).not.toBe(base)
    expect(lookup(chatCompletions, chat('hello'), { generation: 1 })!.context).not.toBe(base)
    const otherEmbedder = resolveSemanticOptions({ embed: { ...embed, id: 'another' } })!
    expect(
      semanticLookupOf(otherEmbedder, normalize, {
        format: chatCompletions,
        body: () => chat('hello'),
        headers: {},
        scope: 'credential:a',
        namespace: 'default',
        generation: 0,
      })!.context,
    ).not.toBe(base)
  })

  it('is no candidate without a last user turn of text', () => {
    expect(lookup(chatCompletions, chat([{ type: 'image_url', image_url: { url: 'https://x/y.png' } }]))).toBeUndefined()
    expect(
      lookup(
        chatCompletions,
        chat([
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'https://x/y.png' } },
        ]),
      ),
    ).toBeUndefined()
    expect(
      lookup(chatCompletions, {
        model: 'm',
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
        ],
      }),
    ).toBeUndefined()
    expect(lookup(chatCompletions, { model: 'm', messages: [{ role: 'tool', tool_call_id: 't', content: '42' }] })).toBeUndefined()
    expect(lookup(chatCompletions, chat('   '))).toBeUndefined()
    expect(lookup(chatCompletions, chat('x'.repeat(2001)))).toBeUndefined()
    expect(lookup(completions, { model: 'm', prompt: 'What is a cache?' })).toBeUndefined()
    expect(lookup(chatCompletions, chat('hello'), { headers: { 'x-aicache-semantic': 'OFF' } })).toBeUndefined()
  })

  it('follows the route: off, on with its own threshold, and on only where routes ask when the engine says enabled: false', () => {
    expect(lookup(chatCompletions, chat('hello'), { route: { semantic: false } })).toBeUndefined()
    expect(lookup(chatCompletions, chat('hello'), { route: { semantic: { threshold: 0.95 } } })?.threshold).toBe(0.95)
    const optIn = resolveSemanticOptions({ embed, enabled: false })!
    const request = { format: chatCompletions, body: () => chat('hello'), headers: {}, scope: 's', namespace: 'n', generation: 0 }
    expect(semanticLookupOf(optIn, normalize, request)).toBeUndefined()
    expect(semanticLookupOf(optIn, normalize, { ...request, route: { semantic: true } })?.threshold).toBe(optIn.threshold)
  })

  it('compares a Responses input string, or its last user message item of input_text', () => {
    const asString = lookup(responses, { model: 'gpt-4o-mini', instructions: 'Be brief.', input: 'What is a cache?' })
    expect(asString?.text).toBe('What is a cache?')
    const asItems = lookup(responses, {
      model: 'gpt-4o-mini',
      input: [
        { role: 'user', content: 'Hi' },
        { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'What is a cache?' }] },
      ],
    })
    expect(asItems?.text).toBe('What is a cache?')
    expect(lookup(responses, { model: 'gpt-4o-mini', instructions: 'Be verbose.', input: 'What is a cache?' })?.context).not.toBe(asString?.context)
    expect(lookup(responses, { model: 'gpt-4o-mini', input: [{ type: 'function_call_output', call_id: 'c', output: '42' }] })).toBeUndefined()
    expect(
      lookup(responses, { model: 'gpt-4o-mini', input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }),
    ).toBeUndefined()
    // The same question in two formats never shares a context.
    expect(lookup(chatCompletions, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'What is a cache?' }] })?.context).not.toBe(
      lookup(responses, { model: 'gpt-4o-mini', input: [{ role: 'user', content: 'What is a cache?' }] })?.context,
    )
  })
})

describe('semantic options', () => {
  const refused = (run: () => unknown, param: string) => {
    try {
      run()
    } catch (error) {
      expect(AiCacheError.isInstance(error) && error.param).toBe(param)
      return
    }
    throw new Error(`accepted a bad ${param}`)
  }

  it('is off unless given, with defaults filled in', () => {
    expect(resolveOptions({}).semantic).toBeUndefined()
    expect(resolveOptions({ semantic: false }).semantic).toBeUndefined()
    expect(resolveOptions({ semantic: { embed } }).semantic).toMatchObject({
      threshold: defaultSemanticThreshold,
      judge: defaultSemanticJudge,
      maxCandidates: 3,
      enabled: true,
      embedTimeoutMs: 1000,
    })
  })

  it('refuses a bad option, naming it', () => {
    refused(() => resolveOptions({ semantic: {} as never }), 'semantic.embed')
    refused(() => resolveOptions({ semantic: { embed: { embed } as never } }), 'semantic.embed')
    refused(() => resolveOptions({ semantic: { embed, threshold: 1.2 } }), 'semantic.threshold')
    refused(() => resolveOptions({ semantic: { embed, threshold: 0 } }), 'semantic.threshold')
    refused(() => resolveOptions({ semantic: { embed, maxCandidates: 0 } }), 'semantic.maxCandidates')
    refused(() => resolveOptions({ semantic: { embed, judge: {} as never } }), 'semantic.judge')
    refused(() => resolveOptions({ semantic: { embed, treshold: 0.9 } as never }), 'semantic.treshold')
    refused(() => resolveRouteOptions({ semantic: { threshold: 2 } }), 'route.semantic.threshold')
    refused(() => resolveRouteOptions({ semantic: 'on' as never }), 'route.semantic')
    expect(resolveRouteOptions({ semantic: { threshold: 0.8 } })?.semantic).toEqual({ threshold: 0.8 })
  })
})
