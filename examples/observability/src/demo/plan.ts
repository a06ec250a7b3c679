import type { BankingQuestion } from '../workload/banking77.js'
import type { PlannedRequest } from '../workload/play.js'

/** One app calling the gateway with its own API key. */
export interface DemoApp {
  name: string
  apiKey: string
  model: string
  stream: boolean
  /** Its share of the traffic. */
  share: number
}

/** The callers of the demo: a bank's apps, each with its own key and model. */
export const demoApps: readonly DemoApp[] = [
  { name: 'support-bot', apiKey: 'sk-demo-support-bot', model: 'gpt-4o-mini', stream: false, share: 0.35 },
  { name: 'mobile-app', apiKey: 'sk-demo-mobile-app', model: 'gpt-4o-mini', stream: true, share: 0.25 },
  { name: 'agent-desk', apiKey: 'sk-demo-agent-desk', model: 'gpt-4o', stream: true, share: 0.15 },
  { name: 'email-triage', apiKey: 'sk-demo-email-triage', model: 'gpt-4.1-mini', stream: false, share: 0.15 },
  { name: 'phone-ivr', apiKey: 'sk-demo-phone-ivr', model: 'gpt-4.1-nano', stream: false, share: 0.1 },
]

/** Options of {@link planDemoWorkload}. */
export interface DemoPlanOptions {
  questions: readonly BankingQuestion[]
  /** @default 300 */
  requests?: number
  /** Questions that most callers ask (suggested questions, FAQ buttons): asked verbatim again and again. @default 30 */
  popularQuestions?: number
  /** Share of requests that ask a popular question; the rest ask one from the long tail. @default 0.7 */
  popularShare?: number
  /** Latency of the demo upstream per call, drawn uniformly from this range. @default [200, 400] */
  upstreamLatencyMs?: readonly [number, number]
  /** Same seed, same plan. @default 77 */
  seed?: number
}

/** mulberry32: a small seeded generator, so every run plays the same workload. */
function random(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let value = state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4_294_967_296
  }
}

function pickWeighted<T>(items: readonly T[], weights: readonly number[], roll: number): T {
  const total = weights.reduce((sum, weight) => sum + weight, 0)
  let remaining = roll * total
  for (let index = 0; index < items.length; index++) {
    remaining -= weights[index] as number
    if (remaining < 0) return items[index] as T
  }
  return items[items.length - 1] as T
}

/**
 * A realistic support workload: several apps, each with its own key and
 * model, asking real banking77 questions. Popular questions follow a Zipf
 * law (the first is asked most), so repeats happen as they do in support
 * traffic; the long tail is mostly asked once.
 *
 * @example
 * ```ts
 * const plan = planDemoWorkload({ questions: readBanking77(), requests: 300 })
 * ```
 */
export function planDemoWorkload(options: DemoPlanOptions): PlannedRequest[] {
  const next = random(options.seed ?? 77)
  const questions = options.questions
  if (questions.length === 0) throw new Error('planDemoWorkload: no questions')
  const popularCount = Math.min(options.popularQuestions ?? 30, questions.length)
  // Spread the popular questions over the whole file rather than its first intents.
  const popular = Array.from({ length: popularCount }, (_, rank) => questions[Math.floor((rank * questions.length) / popularCount)] as BankingQuestion)
  const zipf = popular.map((_, rank) => 1 / (rank + 1))
  const [minLatencyMs, maxLatencyMs] = options.upstreamLatencyMs ?? [200, 400]
  return Array.from({ length: options.requests ?? 300 }, () => {
    const app = pickWeighted(
      demoApps,
      demoApps.map((candidate) => candidate.share),
      next(),
    )
    const question =
      next() < (options.popularShare ?? 0.7) ? pickWeighted(popular, zipf, next()) : (questions[Math.floor(next() * questions.length)] as BankingQuestion)
    const latencyMs = Math.round(minLatencyMs + next() * (maxLatencyMs - minLatencyMs))
    return {
      apiKey: app.apiKey,
      model: app.model,
      question: question.text,
      stream: app.stream,
      headers: { 'x-fake-latency-ms': String(latencyMs) },
    }
  })
}
