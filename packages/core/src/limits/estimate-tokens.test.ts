import { describe, expect, it } from 'vitest'
import { countTokens as count } from 'gpt-tokenizer'
import { estimateRequestTokens } from './estimate-tokens.js'

describe('estimateRequestTokens', () => {
  it('counts the prompt with the real tokenizer, plus chat framing and max_tokens', async () => {
    const content = 'Summarise the plot of Hamlet in two sentences.'
    const body = {
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content },
      ],
      max_tokens: 100,
    }
    const prompt = count(`Be brief.\n${content}`)
    expect(prompt).toBeGreaterThan(5)
    expect(await estimateRequestTokens(body)).toBe(prompt + 2 * 3 + 3 + 100)
  })

  it('prefers max_completion_tokens, falls back to the default, and multiplies by n', async () => {
    const messages = [{ role: 'user', content: 'Hi' }]
    const base = await estimateRequestTokens({ messages, max_tokens: 1 })
    expect(await estimateRequestTokens({ messages, max_tokens: 1, max_completion_tokens: 50 })).toBe(base - 1 + 50)
    expect(await estimateRequestTokens({ messages })).toBe(base - 1 + 1024)
    expect(await estimateRequestTokens({ messages }, { defaultMaxTokens: 10 })).toBe(base - 1 + 10)
    expect(await estimateRequestTokens({ messages, max_tokens: 5, n: 3 })).toBe(base - 1 + 15)
  })

  it('reserves nothing to generate for embeddings', async () => {
    expect(await estimateRequestTokens({ model: 'text-embedding-3-small', input: ['alpha beta', 'gamma'] })).toBe(count('alpha beta\ngamma'))
  })

  it('counts a completions prompt and tolerates bodies that are not requests', async () => {
    expect(await estimateRequestTokens({ prompt: 'Once upon a time', max_tokens: 7 })).toBe(count('Once upon a time') + 7)
    expect(await estimateRequestTokens(null)).toBe(0)
  })
})
