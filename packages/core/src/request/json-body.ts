import { isUtf8 } from 'node:buffer'
import { AiCacheError } from '../errors.js'

/**
 * How deep arrays and objects may nest in a request body. Real requests
 * (JSON schemas of tools and response formats included) stay far below it;
 * a body nested deeper is refused with a 400 before anything walks it, so no
 * recursion over a request (canonical form, `JSON.stringify`) can run out of
 * stack, and `JSON.parse` never spends seconds on a few megabytes of `[`.
 */
export const maxJsonDepth = 128

/** The 400 for a body nested deeper than {@link maxJsonDepth}. */
export function nestingTooDeepError(): AiCacheError {
  return new AiCacheError(
    'nesting_too_deep',
    `The request body nests arrays and objects more than ${maxJsonDepth} levels deep; at most ${maxJsonDepth} are accepted.`,
  )
}

const quote = 0x22
const backslash = 0x5c
const openBrace = 0x7b
const closeBrace = 0x7d
const openBracket = 0x5b
const closeBracket = 0x5d

/**
 * Throws when the JSON text nests deeper than {@link maxJsonDepth}. One pass
 * over the bytes, skipping strings; it stops at the first level too many.
 * Malformed text is left for `JSON.parse` to describe.
 */
function checkDepth(raw: Buffer): void {
  let depth = 0
  let inString = false
  for (let index = 0; index < raw.length; index++) {
    const byte = raw[index]!
    if (inString) {
      if (byte === backslash) index++
      else if (byte === quote) inString = false
    } else if (byte === quote) {
      inString = true
    } else if (byte === openBrace || byte === openBracket) {
      if (++depth > maxJsonDepth) throw nestingTooDeepError()
    } else if (byte === closeBrace || byte === closeBracket) {
      depth--
    }
  }
}

/**
 * Parses a request body that must be JSON. The bytes must be UTF-8 (RFC 8259
 * section 8.1): decoding invalid bytes would turn each bad sequence into
 * U+FFFD, so two different requests would read as one and share a cache key.
 * They are refused instead, as is nesting deeper than {@link maxJsonDepth}.
 * Every refusal is an {@link AiCacheError} answered with a 400.
 */
export function parseJsonBody(raw: Buffer): unknown {
  if (raw.byteLength === 0) throw new AiCacheError('invalid_json', 'The request body is empty; a JSON object was expected.')
  if (!isUtf8(raw)) {
    throw new AiCacheError('invalid_json', 'The request body is not valid UTF-8; JSON text must be UTF-8 (RFC 8259 section 8.1).')
  }
  checkDepth(raw)
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch (cause) {
    throw new AiCacheError('invalid_json', `The request body is not valid JSON: ${(cause as Error).message}`, { cause })
  }
}
