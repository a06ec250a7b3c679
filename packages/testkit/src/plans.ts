import { composeAnswer, contentText, lastUserText, limitTokens, maxTokensOf, messagesOf, tokenCount } from './answers.js'
import { isJsonObject, positiveInteger, type JsonObject } from './json.js'

const TOKENS_PER_MESSAGE = 3
const TOKENS_PRIMING_REPLY = 3

/** A tool call the fake decided to make. */
export interface PlannedToolCall {
  id: string
  name: string
  arguments: string
}

/** One choice of an answer; streaming and non-streaming bodies are both rendered from it so they agree. */
export interface PlannedChoice {
  text: string | null
  toolCall: PlannedToolCall | null
  finishReason: 'stop' | 'length' | 'tool_calls'
}

/** OpenAI's usage block. */
export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
  prompt_tokens_details: { cached_tokens: number }
  completion_tokens_details: { reasoning_tokens: number }
}

/** Everything a chat or text completion answer contains, independent of streaming. */
export interface AnswerPlan {
  choices: PlannedChoice[]
  usage: Usage
}

function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0 },
  }
}

/** Text choices with a ` (i)` suffix for i > 0, so choices are distinguishable yet predictable. */
function planTextChoices(answer: string, body: JsonObject): { choices: PlannedChoice[]; completionTokens: number } {
  const limited = limitTokens(answer, maxTokensOf(body))
  const choiceCount = positiveInteger(body['n']) ?? 1
  const choices: PlannedChoice[] = []
  let completionTokens = 0
  for (let index = 0; index < choiceCount; index++) {
    const suffix = index > 0 ? ` (${index})` : ''
    choices.push({ text: limited.text + suffix, toolCall: null, finishReason: limited.truncated ? 'length' : 'stop' })
    completionTokens += limited.tokenCount + tokenCount(suffix)
  }
  return { choices, completionTokens }
}

/** The function the request forces via tool_choice, else the first tool; undefined when no tool call is due. */
function toolNameToCall(body: JsonObject, messages: readonly JsonObject[]): string | undefined {
  const tools = Array.isArray(body['tools']) ? body['tools'].filter(isJsonObject) : []
  const toolChoice = body['tool_choice']
  if (tools.length === 0 || toolChoice === 'none' || messages.at(-1)?.['role'] === 'tool') return undefined
  const forced = isJsonObject(toolChoice) && isJsonObject(toolChoice['function']) ? toolChoice['function']['name'] : undefined
  const first = isJsonObject(tools[0]?.['function']) ? tools[0]['function']['name'] : undefined
  const name = forced ?? first
  return typeof name === 'string' ? name : 'tool'
}

function promptTokensOf(messages: readonly JsonObject[]): number {
  return messages.reduce((sum, message) => sum + TOKENS_PER_MESSAGE + tokenCount(contentText(message['content'])), TOKENS_PRIMING_REPLY)
}

/** Plans a chat completion: a tool call when tools are offered and due, otherwise the deterministic text. */
export function planChat(body: JsonObject, callNumber: number): AnswerPlan {
  const messages = messagesOf(body)
  const promptTokens = promptTokensOf(messages)
  const toolName = toolNameToCall(body, messages)
  if (toolName === undefined) {
    const { choices, completionTokens } = planTextChoices(composeAnswer(lastUserText(messages), messages), body)
    return { choices, usage: usageOf(promptTokens, completionTokens) }
  }
  const toolCall = {
    id: `call_fake_${callNumber}`,
    name: toolName,
    arguments: JSON.stringify({ query: lastUserText(messages) }),
  }
  const choiceCount = positiveInteger(body['n']) ?? 1
  const choices = Array.from({ length: choiceCount }, (): PlannedChoice => ({ text: null, toolCall, finishReason: 'tool_calls' }))
  return { choices, usage: usageOf(promptTokens, choiceCount * tokenCount(toolCall.arguments)) }
}

/** Echo text and token count of a completions prompt: a string, strings, or token arrays (echoed by length only). */
function readPrompt(prompt: unknown): { text: string; tokens: number } {
  if (typeof prompt === 'string') return { text: prompt, tokens: tokenCount(prompt) }
  if (!Array.isArray(prompt)) return { text: '', tokens: 0 }
  if (prompt.every((item) => typeof item === 'number')) return { text: `[${prompt.length} tokens]`, tokens: prompt.length }
  const parts = prompt.map(readPrompt)
  return { text: parts.map((part) => part.text).join('\n'), tokens: parts.reduce((sum, part) => sum + part.tokens, 0) }
}

/** Plans a legacy text completion with the same answer scheme as chat. */
export function planCompletion(body: JsonObject): AnswerPlan {
  const prompt = readPrompt(body['prompt'])
  const { choices, completionTokens } = planTextChoices(composeAnswer(prompt.text, body['prompt']), body)
  return { choices, usage: usageOf(prompt.tokens, completionTokens) }
}
