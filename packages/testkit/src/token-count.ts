import { countTokens } from 'gpt-tokenizer'

// The fake counts prompts the way @aicache/core's token worker does
// (packages/core/src/request/token-pieces.ts; the testkit cannot depend on
// the core): gpt-tokenizer's merging is quadratic in the length of one run of
// characters, so a prompt of megabytes of one letter would stall the fake for
// hours. Runs are counted 255 characters at a time, which gives the same
// count for ordinary text and a token or so more per cut inside a long run.
const runCharacters = 255
// Beyond this, one token per UTF-8 byte: the most a byte-level BPE can give.
const exactCharacters = 1_048_576

function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || (code > 127 && /\s/.test(String.fromCharCode(code)))
}

function pieceEnd(text: string, start: number): number {
  let runStart = start
  let runIsSpace = isSpace(text.charCodeAt(start))
  for (let index = start + 1; index < text.length; index++) {
    const space = isSpace(text.charCodeAt(index))
    if (space !== runIsSpace) {
      runStart = index
      runIsSpace = space
    } else if (index - runStart >= runCharacters) {
      const high = text.charCodeAt(index - 1)
      // Never between the halves of a surrogate pair.
      return high >= 0xd800 && high <= 0xdbff ? index - 1 : index
    }
  }
  return text.length
}

/** Tokens of a text (o200k), in time linear in its length. */
export function boundedTokenCount(text: string): number {
  const exactEnd = Math.min(text.length, exactCharacters)
  let tokens = exactEnd < text.length ? Buffer.byteLength(text.slice(exactEnd)) : 0
  for (let start = 0; start < exactEnd;) {
    const end = Math.min(pieceEnd(text, start), exactEnd)
    tokens += countTokens(text.slice(start, end))
    start = end
  }
  return tokens
}
