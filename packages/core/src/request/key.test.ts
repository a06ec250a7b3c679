import { describe, expect, it } from 'vitest'
import { cacheKey, credentialScope } from './key.js'

describe('credentialScope', () => {
  it('is a hash of the credential, never the credential', () => {
    const scope = credentialScope({ authorization: 'Bearer sk-secret-value' })
    expect(scope).not.toContain('sk-secret-value')
    expect(scope).toBe(credentialScope({ authorization: 'Bearer sk-secret-value' }))
    expect(scope).not.toBe(credentialScope({ authorization: 'Bearer sk-other' }))
  })

  it('reads Azure and Anthropic style key headers too', () => {
    expect(credentialScope({ 'api-key': 'k1' })).not.toBe(credentialScope({ 'api-key': 'k2' }))
    expect(credentialScope({ 'x-api-key': 'k1' })).not.toBe(credentialScope({}))
  })
})

describe('cacheKey', () => {
  const parts = { namespace: 'default', generation: 0, scope: 'shared', requestDigest: 'abc' }
  it.each(['namespace', 'generation', 'scope', 'requestDigest'] as const)('changes with %s', (part) => {
    const changed = { ...parts, [part]: part === 'generation' ? 1 : 'other' }
    expect(cacheKey(changed)).not.toBe(cacheKey(parts))
  })

  it('gives each scope, namespace and generation its own key when one digest alternates between them', () => {
    const variants = [parts, { ...parts, scope: 'custom:b' }, { ...parts, namespace: 'other' }, { ...parts, generation: 3 }]
    const first = variants.map((variant) => cacheKey(variant))
    expect(new Set(first).size).toBe(variants.length)
    // Asked again in another order, each gets the key it got the first time.
    for (const index of [3, 0, 2, 1, 1, 0]) expect(cacheKey({ ...variants[index]! })).toBe(first[index])
  })

  it('cannot be forged by moving text between parts', () => {
    expect(cacheKey({ ...parts, namespace: 'a\n0', generation: 0 })).not.toBe(cacheKey({ ...parts, namespace: 'a' }))
  })
})
