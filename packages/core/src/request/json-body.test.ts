import { describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import { canonicalJson, canonicalRequest } from './canonical.js'
import { maxJsonDepth, parseJsonBody } from './json-body.js'

const plain = { whitespace: false, case: false }

function refusal(work: () => unknown): AiCacheError {
  try {
    work()
  } catch (error) {
    expect(error).toBeInstanceOf(AiCacheError)
    return error as AiCacheError
  }
  throw new Error('expected a refusal')
}

const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels)

describe('parseJsonBody', () => {
  it(`accepts ${maxJsonDepth} levels of nesting and refuses one more with a 400 naming the limit`, () => {
    expect(parseJsonBody(Buffer.from(nested(maxJsonDepth)))).toBeInstanceOf(Array)
    const error = refusal(() => parseJsonBody(Buffer.from(nested(maxJsonDepth + 1))))
    expect(error.status).toBe(400)
    expect(error.code).toBe('nesting_too_deep')
    expect(error.message).toContain(String(maxJsonDepth))
  })

  it('refuses a million levels of nesting without parsing them', () => {
    expect(refusal(() => parseJsonBody(Buffer.from(nested(1_000_000)))).code).toBe('nesting_too_deep')
  })

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = JSON.stringify({ prompt: `\\" ${'['.repeat(1000)} "{{{`, nested: [[[1]]] })
    expect(parseJsonBody(Buffer.from(text))).toEqual(JSON.parse(text))
  })

  it('refuses bytes that are not UTF-8 instead of reading them as U+FFFD', () => {
    // Two different invalid sequences, which a lossy decode reads as the same text.
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80]]) {
      const raw = Buffer.concat([Buffer.from('{"prompt":"a'), Buffer.from(bad), Buffer.from('"}')])
      const error = refusal(() => parseJsonBody(raw))
      expect(error.status).toBe(400)
      expect(error.code).toBe('invalid_json')
      expect(error.message).toMatch(/UTF-8/)
    }
    expect(parseJsonBody(Buffer.from('{"prompt":"Ünïcödé 🙂"}'))).toEqual({ prompt: 'Ünïcödé 🙂' })
  })

  it('says what is wrong with malformed and empty bodies', () => {
    expect(refusal(() => parseJsonBody(Buffer.from('{"model":'))).code).toBe('invalid_json')
    expect(refusal(() => parseJsonBody(Buffer.alloc(0))).message).toMatch(/empty/)
  })
})

describe('canonical form of hostile bodies', () => {
  it('keeps a top-level __proto__ field in the key', () => {
    const body = (proto: string) => parseJsonBody(Buffer.from(`{"model":"m","prompt":"p","__proto__":{"x":"${proto}"}}`))
    const one = canonicalRequest(body('one'), plain)
    expect(one).toContain('"__proto__":{"x":"one"}')
    expect(one).not.toBe(canonicalRequest(body('two'), plain))
    expect(one).not.toBe(canonicalRequest(parseJsonBody(Buffer.from('{"model":"m","prompt":"p"}')), plain))
  })

  it('refuses a parsed value nested too deep instead of overflowing the stack', () => {
    let value: unknown = 1
    for (let level = 0; level < 10_000; level++) value = { a: value }
    expect(refusal(() => canonicalJson(value)).code).toBe('nesting_too_deep')
    expect(refusal(() => canonicalRequest(value, plain)).code).toBe('nesting_too_deep')
  })
})
