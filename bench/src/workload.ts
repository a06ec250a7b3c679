/**
 * The request every scenario sends: an OpenAI chat completion as a banking
 * support app would make it, about 1 KB of JSON.
 */

/** Path of the chat completions endpoint, as clients call it. */
export const CHAT_COMPLETIONS_PATH = '/v1/chat/completions'

/** Headers of every benchmark request. */
export const REQUEST_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  authorization: 'Bearer sk-bench',
})

/**
 * A real customer question: row 2 of the banking77 test split
 * (PolyAI, CC BY 4.0, https://github.com/PolyAI-LDN/task-specific-datasets),
 * intent `card_arrival`. Embedded rather than read from the CSV so the bench
 * runs anywhere; it also contains a comma, as many rows of that CSV do.
 */
export const CUSTOMER_QUESTION = 'I still have not received my new card, I ordered over a week ago.'

// Long enough, like real support prompts, that hashing and parsing the body is not trivially cheap.
const SYSTEM_PROMPT = [
  "You are the virtual assistant of Northwind Bank's mobile app.",
  'Answer customer questions about cards, transfers, top-ups, exchange rates and account security.',
  'Be concise: at most three short paragraphs.',
  'Never ask for a full card number, PIN, password or one-time code, and remind the customer of this if they offer one.',
  "If the question needs access to the customer's account, explain which screen of the app to open and what they will see there.",
  'If you are not sure, say so and suggest contacting support through the in-app chat, which is open 24 hours a day.',
  'Do not give investment, tax or legal advice.',
  'Reply in the language of the question.',
  'When a delay is normal, say how long it usually takes; when it is not, tell the customer what to do next.',
  'Use plain words instead of banking jargon, and format any list as short bullet points.',
].join(' ')

/** Variations of the request; without any, the body is the plain (non-stream) benchmark request. */
export interface ChatRequestOptions {
  /** `stream: true`: the answer comes as server-sent events. */
  stream?: boolean
  /** `max_tokens`, 300 unless set: the fake upstream cuts its answer there, so it sets the number of stream chunks. */
  maxTokens?: number
  /** `n`: choices per answer; the fake upstream streams them one after another. */
  choices?: number
}

/** The JSON body of a chat completion request asking `question`. */
export function chatRequestBody(question: string = CUSTOMER_QUESTION, options: ChatRequestOptions = {}): string {
  return JSON.stringify({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: question },
    ],
    temperature: 0.2,
    max_tokens: options.maxTokens ?? 300,
    ...(options.choices === undefined ? {} : { n: options.choices }),
    ...(options.stream ? { stream: true } : {}),
  })
}

/**
 * Bodies that differ on every call (the question carries a ticket number), so
 * that no two requests share a cache entry.
 */
export function uniqueChatRequestBodies(options: ChatRequestOptions = {}): () => string {
  let ticketNumber = 0
  return () => {
    ticketNumber += 1
    return chatRequestBody(`${CUSTOMER_QUESTION} (ticket ${ticketNumber})`, options)
  }
}
