import { describe, expect, it } from 'vitest'
import { Production } from './production.js'

const event = (data: string) => ({ data, offsetMs: 0 })

async function collect(iterable: AsyncIterable<readonly { data: string }[]>): Promise<string[]> {
  const out: string[] = []
  for await (const batch of iterable) out.push(...batch.map((item) => item.data))
  return out
}

async function batches(iterable: AsyncIterable<readonly { data: string }[]>): Promise<string[][]> {
  const out: string[][] = []
  for await (const batch of iterable) out.push(batch.map((item) => item.data))
  return out
}

describe('Production', () => {
  it('gives a late follower what was already produced, then the rest live', async () => {
    const production = new Production()
    production.start({ status: 200, headers: {}, streaming: true })
    production.append(event('a'))
    const early = collect(production.follow())
    production.append(event('b'))
    const late = collect(production.follow())
    production.append(event('c'))
    production.finish({ body: Buffer.alloc(0), stored: true, complete: true })
    expect(await early).toEqual(['a', 'b', 'c'])
    expect(await late).toEqual(['a', 'b', 'c'])
  })

  it('hands a follower everything produced while it waited as one batch', async () => {
    const production = new Production()
    production.start({ status: 200, headers: {}, streaming: true })
    production.append(event('a'))
    production.append(event('b'))
    const following = batches(production.follow())
    // Appended in one go (one upstream chunk) before the follower runs again.
    await Promise.resolve()
    production.append(event('c'))
    production.append(event('d'))
    production.finish({ body: Buffer.alloc(0), stored: true, complete: true })
    expect(await following).toEqual([
      ['a', 'b'],
      ['c', 'd'],
    ])
    // A follower that comes after the end gets the whole stream at once.
    expect(await batches(production.follow())).toEqual([['a', 'b', 'c', 'd']])
  })

  it('makes every follower fail when production fails mid-way', async () => {
    const production = new Production()
    production.start({ status: 200, headers: {}, streaming: true })
    production.append(event('a'))
    const following = collect(production.follow())
    production.fail(new Error('upstream dropped'))
    await expect(following).rejects.toThrow('upstream dropped')
    await expect(production.result()).rejects.toThrow('upstream dropped')
  })

  it('fails the head when production fails before it started', async () => {
    const production = new Production()
    production.fail(new Error('unreachable'))
    await expect(production.head()).rejects.toThrow('unreachable')
  })
})
