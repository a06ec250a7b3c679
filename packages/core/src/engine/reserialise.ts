/**
 * Serialises a body a framework parser read before aicache, whose bytes are
 * gone (`express.json()` mounted first, without a `verify` hook keeping
 * them), so it can be forwarded; which can change it. Says so once per
 * returned function (once per engine), with the fix.
 */
export function reserialiser(): (parsed: unknown) => Buffer {
  let warned = false
  return (parsed) => {
    if (!warned) {
      warned = true
      console.warn(
        'aicache: a body parser before aicache consumed the request body, so it is forwarded serialised again ' +
          '(big integers can lose digits, and malformed JSON goes to the app instead of an OpenAI-style 400). ' +
          'Mount aicache before the body parser, or keep the bytes: express.json({ verify: (req, res, buffer) => { req.rawBody = buffer } }). ' +
          'See docs/express.md.',
      )
    }
    return Buffer.from(JSON.stringify(parsed))
  }
}
