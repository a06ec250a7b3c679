import { describe, expect, it } from 'vitest'
import { operationOfPath } from './operation.js'

describe('operationOfPath', () => {
  it('knows the three cached gateway paths, with or without a trailing slash', () => {
    expect(operationOfPath('/v1/chat/completions')).toBe('chat')
    expect(operationOfPath('/v1/chat/completions/')).toBe('chat')
    expect(operationOfPath('/v1/completions')).toBe('completion')
    expect(operationOfPath('/v1/embeddings')).toBe('embeddings')
  })

  it('knows no other path, whatever property names it spells', () => {
    for (const path of ['/v1/models', '/v1/chat', '/v1/', '/', 'constructor', '__proto__', '/v1/CHAT/COMPLETIONS']) {
      expect(operationOfPath(path)).toBeUndefined()
    }
  })
})
