/**
 * Where the piece of `text` that starts at `start` ends, so that the
 * tokenizer can count a text piece by piece, each in bounded time, and the
 * sum stays at or above the count of the whole.
 *
 * `gpt-tokenizer`'s byte-pair merging takes time quadratic in the length of
 * one pre-token, and the o200k pre-tokenizer makes one pre-token of a whole
 * run of letters, of punctuation or of white space (80 KB of one letter take
 * seconds). So a run longer than `runCharacters` is cut after that many
 * characters: no piece holds a pre-token longer than about twice that.
 * Other text is cut only where white space begins, once the piece holds
 * `sliceCharacters`: pre-tokens begin there anyway (a word takes the space
 * before it), so those cuts change no count. A cut inside a run can only
 * end a merge early, which costs a token or so; it never saves one in
 * practice (docs/rate-limits.md has the measurements). A surrogate pair is
 * never cut in two.
 *
 * Self-contained on purpose: the tokenizer worker runs its source text.
 */
export function pieceEnd(text: string, start: number, runCharacters: number, sliceCharacters: number): number {
  // JavaScript's \s, which is what the o200k pattern's \s matches.
  const isSpace = (code: number) =>
    code === 32 ||
    (code >= 9 && code <= 13) ||
    (code > 127 &&
      (code === 160 ||
        code === 5760 ||
        (code >= 8192 && code <= 8202) ||
        code === 8232 ||
        code === 8233 ||
        code === 8239 ||
        code === 8287 ||
        code === 12288 ||
        code === 65279))
  const cutAt = (index: number) => {
    const high = text.charCodeAt(index - 1)
    // A cut between the halves of a surrogate pair moves one unit back (or on, at the start of the piece).
    if (high >= 0xd800 && high <= 0xdbff) return index - 1 > start ? index - 1 : index + 1
    return index
  }
  let runStart = start
  let runIsSpace = isSpace(text.charCodeAt(start))
  for (let index = start + 1; index < text.length; index++) {
    const space = isSpace(text.charCodeAt(index))
    if (space !== runIsSpace) {
      if (space && index - start >= sliceCharacters) return index
      runStart = index
      runIsSpace = space
    } else if (index - runStart >= runCharacters) {
      return cutAt(index)
    }
  }
  return text.length
}

/**
 * Characters of one run (of letters, of punctuation, of white space)
 * tokenized at a time. A multiple of 3, so a run of digits, which o200k
 * splits into groups of three, is cut where a group ends.
 */
export const runCharacters = 255

/**
 * Characters the token worker counts of one request before it gives way to
 * the next request waiting, so a long text never holds up a short one for
 * more than one slice (a few milliseconds).
 */
export const sliceCharacters = 16_384

/**
 * Characters of one text counted with the tokenizer; the rest counts one
 * token per UTF-8 byte, which no byte-level BPE can exceed (every token
 * stands for at least one byte). This bounds the tokenizer's work per text
 * (about a second, at the slowest) whatever the body limit.
 */
export const exactCharacters = 1_048_576

/**
 * The token count of `text`, counted piece by piece with `count` (see
 * {@link pieceEnd}), beyond {@link exactCharacters} one token per byte. At or
 * above the count of the whole text, so a rate limit reserving it never
 * reserves too little.
 */
export function countByPieces(text: string, count: (piece: string) => number): number {
  const exactEnd = Math.min(text.length, exactCharacters)
  let tokens = exactEnd < text.length ? Buffer.byteLength(text.slice(exactEnd)) : 0
  for (let start = 0; start < exactEnd;) {
    const end = Math.min(pieceEnd(text, start, runCharacters, sliceCharacters), exactEnd)
    tokens += count(text.slice(start, end))
    start = end
  }
  return tokens
}
