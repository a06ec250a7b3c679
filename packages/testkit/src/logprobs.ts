import { wordPieces } from './stream-chunks.js'
import { positiveInteger, type JsonObject } from './json.js'

/**
 * Log probabilities as OpenAI reports them when a request asks for them:
 * one entry per token, here one per word-sized piece (the same pieces the
 * stream is cut into), so the entries of a stream's chunks concatenate to
 * exactly the entries of the non-stream answer, as they do upstream.
 */

/** A made-up but stable log probability for the piece at `position`. */
function logprobAt(position: number): number {
  return -((position % 9) + 1) / 100
}

/** Chat: `logprobs: true`, with `top_logprobs` alternatives per token. */
export function chatLogprobsWanted(body: JsonObject): { top: number } | undefined {
  return body['logprobs'] === true ? { top: positiveInteger(body['top_logprobs']) ?? 0 } : undefined
}

/** Completions: `logprobs: N` (0 asks for the chosen token only). */
export function completionLogprobsWanted(body: JsonObject): { top: number } | undefined {
  const value = body['logprobs']
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? { top: value } : undefined
}

/** One chat `logprobs.content` entry per piece, numbered from `first`. */
export function chatTokenLogprobs(pieces: readonly string[], first: number, top: number): JsonObject[] {
  return pieces.map((token, offset) => {
    const logprob = logprobAt(first + offset)
    const bytes = [...Buffer.from(token, 'utf8')]
    const alternatives = Array.from({ length: top }, (_, rank) =>
      rank === 0 ? { token, logprob, bytes } : { token: `~${rank}`, logprob: logprob - rank, bytes: [126, 48 + rank] },
    )
    return { token, logprob, bytes, top_logprobs: alternatives }
  })
}

/** The chat `logprobs` object of a whole text. */
export function chatLogprobs(text: string, top: number): JsonObject {
  return { content: chatTokenLogprobs(wordPieces(text), 0, top), refusal: null }
}

/** A completions `logprobs` object for pieces numbered from `first`, starting at character `textOffset`. */
export function completionLogprobs(pieces: readonly string[], first: number, textOffset: number, top: number): JsonObject {
  const offsets: number[] = []
  let at = textOffset
  for (const piece of pieces) {
    offsets.push(at)
    at += piece.length
  }
  return {
    tokens: [...pieces],
    token_logprobs: pieces.map((_, offset) => logprobAt(first + offset)),
    top_logprobs: top === 0 ? null : pieces.map((piece, offset) => ({ [piece]: logprobAt(first + offset) })),
    text_offset: offsets,
  }
}
