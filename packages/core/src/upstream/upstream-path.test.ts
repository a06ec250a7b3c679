import { describe, expect, it } from 'vitest'
import { upstreamPathOf } from './upstream-path.js'

describe('upstreamPathOf', () => {
  it.each([
    ['/v1', '/v1/chat/completions', '/v1/chat/completions'],
    ['/v1/', '/v1/models/gpt-4o?limit=2', '/v1/models/gpt-4o?limit=2'],
    ['/openai/deployments/mine', '/v1/chat/completions?api-version=2024-10-21', '/openai/deployments/mine/chat/completions?api-version=2024-10-21'],
    ['/', '/v1/models/', '/models/'],
    ['/v1', '/v1/files/file%20one', '/v1/files/file%20one'],
    // A query is the same host's and path's business: `..` there names no path.
    ['/v1', '/v1/models?next=../x', '/v1/models?next=../x'],
  ])('appends under base %s: %s', (basePath, url, expected) => {
    expect(upstreamPathOf(basePath, url)).toBe(expected)
  })

  it.each([
    '/v1/../admin',
    '/v1/./models',
    '/v1/%2e%2e/admin',
    '/v1/.%2E/admin',
    '/v1/models/..%2fadmin',
    '/v1/models/%2F%2Fother',
    '/v1/models/..%5Cadmin',
    '/v1/models\\..\\admin',
    '/v1//127.0.0.1:9/x',
    '/v1/models%00',
    '/v1/models/%zz',
    '/v1/models#fragment',
    '/v1/mödels',
    '/v1/models x',
    'http://127.0.0.1:9/v1/models',
    '/v2/models',
  ])('refuses %s with invalid_path', (url) => {
    expect(() => upstreamPathOf('/v1', url)).toThrow(expect.objectContaining({ code: 'invalid_path', status: 400, param: 'path' }))
  })
})
