import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { countTokens } from 'gpt-tokenizer'
import { describe, expect, it } from 'vitest'
import { countByPieces, exactCharacters, pieceEnd, runCharacters, sliceCharacters } from './token-pieces.js'

// A small deterministic generator (mulberry32), so every run checks the same samples.
function generator(seed: number): () => number {
  let state = seed
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state)
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296
  }
}

const next = generator(17)
const randomText = (length: number, from: number, span: number) => Array.from({ length }, () => String.fromCodePoint(from + Math.floor(next() * span))).join('')

// Runs of every kind the o200k pre-tokenizer keeps whole, a few thousand characters
// each (longer ones take the unpieced tokenizer seconds, which is the bug).
const samples: Record<string, string> = {
  'one letter': 'x'.repeat(5_000),
  'random lower-case letters': randomText(5_000, 0x61, 26),
  'random ASCII without spaces': randomText(5_000, 0x21, 94),
  'random CJK': randomText(3_000, 0x4e00, 2_000),
  'random emoji (surrogate pairs)': randomText(2_000, 0x1f600, 80),
  'random Cyrillic': randomText(4_000, 0x430, 32),
  digits: randomText(5_000, 0x30, 10),
  punctuation: randomText(5_000, 0x21, 15),
  spaces: ' '.repeat(5_000),
  'a newline run after punctuation': '!' + '\n'.repeat(3_000),
  base64: Buffer.from(randomText(4_000, 0, 256)).toString('base64'),
  hex: Buffer.from(randomText(3_000, 0, 256)).toString('hex'),
  'runs between words': `Please summarise ${'y'.repeat(2_000)} and then ${'-'.repeat(1_500)} thanks ${'\t'.repeat(700)} bye`,
}

describe('countByPieces', () => {
  it.each(Object.entries(samples))('is never below the count of the whole text: %s', (_name, text) => {
    const whole = countTokens(text)
    const pieces = countByPieces(text, countTokens)
    expect(pieces).toBeGreaterThanOrEqual(whole)
    // An upper bound that stays close: a token or so per cut.
    expect(pieces - whole).toBeLessThanOrEqual(Math.ceil(text.length / runCharacters) + 2)
  })

  it('gives the exact count of ordinary text, however long', () => {
    const prose = Array.from({ length: 4_000 }, (_, index) => `Sentence ${index} asks about card ${index % 7} and a transfer.`).join(' ')
    expect(prose.length).toBeGreaterThan(2 * sliceCharacters)
    expect(countByPieces(prose, countTokens)).toBe(countTokens(prose))
  })

  // The real query sets of the repository's data/ (clinc150: CC BY 3.0; GPTCache's mock data: MIT; data/README.md).
  const sharedData = (path: string) => fileURLToPath(new URL(`../../../../data/${path}`, import.meta.url))
  const queries = [
    [
      'clinc150',
      sharedData('clinc150/data_full.json'),
      (text: string) =>
        Object.values(JSON.parse(text) as Record<string, [string][]>)
          .flat()
          .map((row) => row[0]),
    ],
    [
      'gptcache',
      sharedData('gptcache/mock_data.json'),
      (text: string) => (JSON.parse(text) as { origin: string; similar: string }[]).flatMap((pair) => [pair.origin, pair.similar]),
    ],
  ] as const
  it.skipIf(!queries.every(([, path]) => existsSync(path))).each(queries)(
    'is never below the real count on the %s query set, one by one and joined',
    (_name, path, read) => {
      const texts = read(readFileSync(path, 'utf8')).slice(0, 5_000)
      for (const text of texts) expect(countByPieces(text, countTokens)).toBeGreaterThanOrEqual(countTokens(text))
      const joined = texts.join('\n')
      expect(countByPieces(joined, countTokens)).toBeGreaterThanOrEqual(countTokens(joined))
    },
  )

  it(`counts beyond ${exactCharacters} characters as one token per UTF-8 byte, the most a byte-level BPE can give`, () => {
    const exact = 'and '.repeat(exactCharacters / 4)
    const rest = 'é'.repeat(10)
    expect(countByPieces(exact + rest, countTokens)).toBe(countTokens(exact) + Buffer.byteLength(rest))
  })
})

describe('pieceEnd', () => {
  it('cuts long runs, never a surrogate pair, and keeps every piece short', () => {
    const text = `${'a'.repeat(1_000)} ${'🙂'.repeat(400)}\n${' '.repeat(600)}z`
    let longest = 0
    for (let start = 0; start < text.length;) {
      const end = pieceEnd(text, start, runCharacters, sliceCharacters)
      expect(end).toBeGreaterThan(start)
      const high = text.charCodeAt(end - 1)
      expect(high >= 0xd800 && high <= 0xdbff).toBe(false)
      longest = Math.max(longest, end - start)
      start = end
    }
    expect(longest).toBeLessThanOrEqual(2 * runCharacters + 1)
  })
})
