import { describe, expect, it } from 'vitest'
import { canonicalJson, canonicalRequest } from './canonical.js'

const plain = { whitespace: false, case: false }
const base = {
  model: 'gpt-4o-mini',
  temperature: 0.2,
  messages: [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is my card limit?' },
  ],
  tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
}

describe('canonicalRequest', () => {
  it('does not depend on the order of object keys, at any depth', () => {
    const reordered = {
      tools: [{ function: { parameters: { properties: {}, type: 'object' }, name: 'lookup' }, type: 'function' }],
      messages: [
        { content: 'Be brief.', role: 'system' },
        { content: 'What is my card limit?', role: 'user' },
      ],
      temperature: 0.2,
      model: 'gpt-4o-mini',
    }
    expect(canonicalRequest(reordered, plain)).toBe(canonicalRequest(base, plain))
  })

  it.each([
    ['model', { ...base, model: 'gpt-4o' }],
    ['messages', { ...base, messages: [...base.messages, { role: 'user', content: 'And now?' }] }],
    ['message order', { ...base, messages: [...base.messages].reverse() }],
    ['tools', { ...base, tools: [] }],
    ['temperature', { ...base, temperature: 0.3 }],
    ['an unknown new field', { ...base, reasoning_effort: 'high' }],
    ['seed', { ...base, seed: 7 }],
  ])('changes when %s changes', (_label, changed) => {
    expect(canonicalRequest(changed, plain)).not.toBe(canonicalRequest(base, plain))
  })

  it.each([
    ['stream', { stream: true }],
    ['stream_options', { stream_options: { include_usage: true } }],
    ['user', { user: 'user-42' }],
    ['metadata', { metadata: { ticket: '9' } }],
  ])('ignores %s, which cannot change the answer', (_label, extra) => {
    expect(canonicalRequest({ ...base, ...extra }, plain)).toBe(canonicalRequest(base, plain))
  })

  it('normalises prompt whitespace and case only when asked', () => {
    const noisy = {
      ...base,
      messages: [
        { role: 'system', content: '  Be   brief. ' },
        { role: 'user', content: [{ type: 'text', text: 'WHAT is my\ncard limit?' }] },
      ],
    }
    const tidy = { ...base, messages: [base.messages[0], { role: 'user', content: [{ type: 'text', text: 'what is my card limit?' }] }] }
    expect(canonicalRequest(noisy, plain)).not.toBe(canonicalRequest(tidy, plain))
    const both = { whitespace: true, case: true }
    expect(canonicalRequest(noisy, both)).toBe(canonicalRequest(tidy, both))
  })

  it('normalises Responses instructions and input items only when asked', () => {
    const responses = { model: 'gpt-4o-mini', instructions: ' Be  BRIEF ', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Card\nLIMIT?' }] }] }
    const tidy = { model: 'gpt-4o-mini', instructions: 'be brief', input: [{ role: 'user', content: [{ type: 'input_text', text: 'card limit?' }] }] }
    expect(canonicalRequest(responses, plain)).not.toBe(canonicalRequest(tidy, plain))
    const both = { whitespace: true, case: true }
    expect(canonicalRequest(responses, both)).toBe(canonicalRequest(tidy, both))
    expect(canonicalRequest({ model: 'm', input: [' A ', 'B'] }, both)).toBe(canonicalRequest({ model: 'm', input: ['a', 'b'] }, both))
  })

  it('writes numbers, strings and nesting as JSON does', () => {
    const value = { b: [1, 1.5, 'x', null, { d: true, c: false }], a: 'quote"d' }
    expect(JSON.parse(canonicalJson(value))).toEqual(value)
    expect(canonicalJson(value)).toBe('{"a":"quote\\"d","b":[1,1.5,"x",null,{"c":false,"d":true}]}')
  })
})
