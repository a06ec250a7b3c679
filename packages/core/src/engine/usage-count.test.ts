import { countTokens } from 'gpt-tokenizer'
import { describe, expect, it, vi } from 'vitest'
import { createAiCache } from '../index.js'
import { countTokens as countInWorker } from '../request/tokens.js'

// An upstream that streams an answer without a usage chunk, whatever it is asked.
const events = [
  {
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { role: 'assistant', content: 'Your card ' }, finish_reason: null }],
  },
  {
    id: 'c1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content: 'arrives in five days.' }, finish_reason: 'stop' }],
  },
]
const sseBody = events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('') + 'data: [DONE]\n\n'
const upstream = async () => new Response(sseBody, { headers: { 'content-type': 'text/event-stream' } })

const question = { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'Where is my new card?' }] }

function ask(cache: ReturnType<typeof createAiCache>) {
  return cache.fetch('https://api.openai.com/v1/chat/completions', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
    body: JSON.stringify(question),
  })
}

describe('a stream without usage', () => {
  it('is a hit right after it ended, and its hits save the tokens counted by the tokenizer', async () => {
    const cache = createAiCache({ fetch: upstream })
    const miss = await ask(cache)
    await miss.text()
    // Stored at once: counting its tokens does not hold the entry back.
    const hit = await ask(cache)
    expect(hit.headers.get('cache-status')).toMatch(/hit/)
    expect(await hit.text()).toBe(sseBody)
    const expected = { input: countTokens('Where is my new card?'), output: countTokens('Your card arrives in five days.') }
    // Once counted, the stored entry carries the count, and a hit saves it.
    await vi.waitFor(
      async () => {
        const before = cache.stats().tokensSaved
        await (await ask(cache)).text()
        const after = cache.stats().tokensSaved
        expect({ input: after.input - before.input, output: after.output - before.output }).toEqual(expected)
        // The worker's first count loads the tokenizer: over a second on a loaded machine (4.5 s seen at load 30).
      },
      { timeout: 10_000 },
    )
  })

  it('does not bring back an entry dropped while its tokens were being counted', async () => {
    const cache = createAiCache({ fetch: upstream })
    await (await ask(cache)).text()
    cache.clear()
    // The worker answers in order: once this count is back, so is the entry's.
    await countInWorker(['after the entry'])
    await new Promise((resolve) => setImmediate(resolve))
    const next = await ask(cache)
    expect(next.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    await next.text()
  })
})
