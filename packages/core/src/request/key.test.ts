import { describe, expect, it } from 'vitest'
import { cacheKey, cacheKeyOf, credentialScope, type KeySlot } from './key.js'

describe('credentialScope', () => {
  it('is a hash of the credential, never the credential', () => {
    const scope = credentialScope({ authorization: 'Bearer sk-secret-value' })
    expect(scope).not.toContain('sk-secret-value')
    expect(scope).toBe(credentialScope({ authorization: 'Bearer sk-secret-value' }))
    expect(scope).not.toBe(credentialScope({ authorization: 'Bearer sk-other' }))
  })

  it('gives each credential its own scope when requests from several keys interleave', () => {
    const credentials = ['Bearer sk-a', 'Bearer sk-a', 'Bearer sk-b', 'Bearer sk-a', 'Bearer sk-c', 'Bearer sk-b']
    const scopes = credentials.map((authorization) => credentialScope({ authorization }))
    expect(new Set(scopes).size).toBe(3)
    credentials.forEach((credential, index) => {
      expect(scopes[index]).toBe(scopes[credentials.indexOf(credential)])
    })
  })

  it.each(['', '   ', 'Bearer ', 'Bearer', 'Bearer undefined', 'Bearer null', 'bearer  NULL ', 'BEARER UNDEFINED', 'undefined', 'null'])(
    'treats Authorization %j as absent, so api-key decides the scope',
    (authorization) => {
      const first = credentialScope({ authorization, 'api-key': 'tenant-a-key' })
      const second = credentialScope({ authorization, 'api-key': 'tenant-b-key' })
      expect(first).not.toBe(second)
      expect(first).toBe(credentialScope({ 'api-key': 'tenant-a-key' }))
      expect(credentialScope({ authorization, 'x-api-key': 'k1' })).toBe(credentialScope({ 'x-api-key': 'k1' }))
      expect(credentialScope({ authorization })).toBe(credentialScope({}))
    },
  )

  it.each(['Bearer sk-abcd', 'Bearer sk-null', 'Bearer sk-bearer', 'Bearer sk-undefined', 'nullable', 'Bearer x'])(
    'takes %j, which only ends like a placeholder, as a credential',
    (authorization) => {
      expect(credentialScope({ authorization })).not.toBe(credentialScope({}))
      expect(credentialScope({ authorization, 'api-key': 'k1' })).toBe(credentialScope({ authorization, 'api-key': 'k2' }))
    },
  )

  it('reads Authorization first, then api-key, then x-api-key', () => {
    expect(credentialScope({ authorization: 'Bearer sk-a', 'api-key': 'k1' })).toBe(credentialScope({ authorization: 'Bearer sk-a' }))
    expect(credentialScope({ 'api-key': 'k1', 'x-api-key': 'k2' })).toBe(credentialScope({ 'api-key': 'k1' }))
    expect(credentialScope({ 'api-key': ' ', 'x-api-key': 'k2' })).toBe(credentialScope({ 'x-api-key': 'k2' }))
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

  // Each pair would hash the same text if the parts were simply joined.
  it.each([
    ['namespace and generation', { ...parts, namespace: 'docs1', generation: 2 }, { ...parts, namespace: 'docs', generation: 12 }],
    ['generation and scope', { ...parts, generation: 1, scope: '2custom:a' }, { ...parts, generation: 12, scope: 'custom:a' }],
    ['scope and digest', { ...parts, scope: 'custom:ab', requestDigest: 'c' }, { ...parts, scope: 'custom:a', requestDigest: 'bc' }],
  ])('cannot be forged by moving text between %s', (_parts, one, other) => {
    expect(Object.values(one).join('')).toBe(Object.values(other).join(''))
    expect(cacheKey(one)).not.toBe(cacheKey(other))
  })
})

describe('cacheKeyOf', () => {
  it('gives the key cacheKey gives, as scope, namespace and generation change on one slot', () => {
    const slot: KeySlot = {}
    const sequence = [
      ['default', 0, 'shared'],
      ['default', 0, 'shared'],
      ['default', 0, 'credential:b'],
      ['other', 0, 'credential:b'],
      ['other', 4, 'credential:b'],
      ['default', 0, 'shared'],
    ] as const
    for (const [namespace, generation, scope] of sequence) {
      expect(cacheKeyOf(slot, namespace, generation, scope, 'digest')).toBe(cacheKey({ namespace, generation, scope, requestDigest: 'digest' }))
    }
  })
})
