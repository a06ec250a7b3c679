import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { countTokens as countInProcess } from 'gpt-tokenizer'
import { describe, expect, it } from 'vitest'
import { countByPieces } from './token-pieces.js'
import { countTokens, estimateUsage } from './tokens.js'

const texts = [
  '',
  'I still have not received my new card, I ordered over a week ago.',
  'Ünïcödé and emoji 🙂 and 中文 text',
  'function add(a, b) {\n  return a + b\n}\n'.repeat(20),
]

describe('countTokens', () => {
  it('gives the counts of gpt-tokenizer itself, in order', async () => {
    expect(await countTokens(texts)).toEqual(texts.map((text) => countInProcess(text)))
  })

  it('answers each of many concurrent calls with its own counts', async () => {
    const calls = Array.from({ length: 50 }, (_, index) => `question number ${index} ${'word '.repeat(index)}`)
    const counts = await Promise.all(calls.map((text) => countTokens([text])))
    expect(counts).toEqual(calls.map((text) => [countInProcess(text)]))
  })

  it('counts megabytes of one unbroken run by pieces, as countByPieces does', async () => {
    const runs = ['x'.repeat(3 * 1024 * 1024), '🙂'.repeat(100_000), `${'-'.repeat(300_000)}\n${' '.repeat(300_000)}`]
    expect(await countTokens(runs)).toEqual(runs.map((text) => countByPieces(text, countInProcess)))
  })

  it('answers a short text before a long one sent just before it: requests take turns', async () => {
    // Random letters: no cached piece, so the long text keeps the worker busy for a while.
    let state = 7
    const letter = () => String.fromCharCode(97 + ((state = (state * 1103515245 + 12345) % 2147483648) % 26))
    const long = Array.from({ length: 200_000 }, letter).join('')
    const order: string[] = []
    await countTokens(['warm up'])
    const done = [countTokens([long]).then(() => order.push('long')), countTokens(['Where is my card?']).then(() => order.push('short'))]
    await Promise.all(done)
    expect(order).toEqual(['short', 'long'])
  })

  it('estimates usage from the prompt and the answer text', async () => {
    const body = {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi there' },
      ],
    }
    expect(await estimateUsage(body, 'Hello! How can I help?')).toEqual({
      inputTokens: countInProcess('Be brief.\nHi there'),
      outputTokens: countInProcess('Hello! How can I help?'),
    })
  })

  it('does not keep a process alive once its counts are in (the built package)', async () => {
    const entry = fileURLToPath(new URL('../../dist/index.mjs', import.meta.url))
    const script = `
      const { estimateRequestTokens } = await import(${JSON.stringify(entry)})
      console.log(await estimateRequestTokens({ prompt: 'Once upon a time', max_tokens: 7 }))
    `
    // execFile's timeout kills a process that lingers; the exit is then not clean.
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { timeout: 10_000 })
    expect(Number(stdout.trim())).toBe(countInProcess('Once upon a time') + 7)
  })
})
