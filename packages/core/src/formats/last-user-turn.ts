import type { SemanticQuery } from './format.js'

/**
 * The semantic cache's split of a message list (chat `messages`, Responses
 * `input` items): the last item's text, when it is a user turn of text
 * only, and the body with that text taken out (docs/semantic-cache.md).
 */

type JsonRecord = Record<string, unknown>

function isRecord(value: unknown): value is JsonRecord {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * The text of a turn's `content`: a string, or parts that are all text
 * (`textTypes`), joined by newlines. `undefined` for anything else (an image
 * or a file makes the turn more than its words), and for blank text.
 */
export function textOfContent(content: unknown, textTypes: ReadonlySet<string>): string | undefined {
  let text: string
  if (typeof content === 'string') text = content
  else if (Array.isArray(content) && content.length > 0) {
    const parts: string[] = []
    for (const part of content) {
      if (typeof part === 'string') parts.push(part)
      else if (isRecord(part) && typeof part['type'] === 'string' && textTypes.has(part['type']) && typeof part['text'] === 'string') parts.push(part['text'])
      else return undefined
    }
    text = parts.join('\n')
  } else return undefined
  text = text.trim()
  return text === '' ? undefined : text
}

/**
 * `body[field]`'s last item as a query when it is a user turn of text, with
 * the body as context where that item keeps everything but its `content`.
 */
export function lastUserTurn(
  body: JsonRecord,
  field: string,
  textTypes: ReadonlySet<string>,
  isUserTurn: (item: JsonRecord) => boolean,
): SemanticQuery | undefined {
  const items = body[field]
  if (!Array.isArray(items) || items.length === 0) return undefined
  const last: unknown = items[items.length - 1]
  if (!isRecord(last) || !isUserTurn(last)) return undefined
  const text = textOfContent(last['content'], textTypes)
  if (text === undefined) return undefined
  const { content: _content, ...rest } = last
  return { text, context: { ...body, [field]: [...items.slice(0, -1), rest] } }
}
