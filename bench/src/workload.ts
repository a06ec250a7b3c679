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

/** Path of the OpenAI Responses API. */
export const RESPONSES_PATH = '/v1/responses'

/** Path of Anthropic's Messages API. */
export const MESSAGES_PATH = '/v1/messages'

/** Headers of every benchmark request to the Messages API, as Anthropic's SDK sends them. */
export const ANTHROPIC_REQUEST_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'application/json',
  'x-api-key': 'sk-ant-bench',
  'anthropic-version': '2023-06-01',
})

/** The API formats a scenario can send the benchmark question in. */
export type RequestFormat = 'chat' | 'responses' | 'messages'

/** One benchmark request in one format: where it goes, with which headers and body. */
export interface BenchRequest {
  format: RequestFormat
  path: string
  headers: Readonly<Record<string, string>>
  body: string
  /** A text only a complete stream of this format contains: its end. */
  streamEnd: string
}

/**
 * The benchmark question in `format`: the chat completion of
 * {@link chatRequestBody}, or the same system prompt, question, temperature
 * and output limit as a Responses (`instructions`, `input`,
 * `max_output_tokens`) or a Messages request (`system`, `messages`, `max_tokens`).
 */
export function benchRequest(format: RequestFormat, question: string = CUSTOMER_QUESTION, options: ChatRequestOptions = {}): BenchRequest {
  const maxTokens = options.maxTokens ?? 300
  const stream = options.stream ? { stream: true } : {}
  if (format === 'responses') {
    const body = JSON.stringify({
      model: 'gpt-4o-mini',
      instructions: SYSTEM_PROMPT,
      input: question,
      temperature: 0.2,
      max_output_tokens: maxTokens,
      ...stream,
    })
    return { format, path: RESPONSES_PATH, headers: REQUEST_HEADERS, body, streamEnd: 'event: response.completed\n' }
  }
  if (format === 'messages') {
    const body = JSON.stringify({
      model: 'claude-haiku-4-5',
      system: SYSTEM_PROMPT,
      messages: [{ role: 'user', content: question }],
      temperature: 0.2,
      max_tokens: maxTokens,
      ...stream,
    })
    return { format, path: MESSAGES_PATH, headers: ANTHROPIC_REQUEST_HEADERS, body, streamEnd: 'event: message_stop\n' }
  }
  return { format, path: CHAT_COMPLETIONS_PATH, headers: REQUEST_HEADERS, body: chatRequestBody(question, options), streamEnd: 'data: [DONE]\n\n' }
}

/** {@link uniqueChatRequestBodies} in any format. */
export function uniqueRequestBodies(format: RequestFormat, options: ChatRequestOptions = {}): () => string {
  let ticketNumber = 0
  return () => {
    ticketNumber += 1
    return benchRequest(format, `${CUSTOMER_QUESTION} (ticket ${ticketNumber})`, options).body
  }
}
