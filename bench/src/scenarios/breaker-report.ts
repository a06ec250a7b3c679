/** The table of the breaker scenario: what each phase did to the requests and to the upstream. */
import type { PacedReply } from '../paced-load.js'
import type { ScenarioReport } from '../scenario.js'
import type { BreakerPlan, BreakerTarget } from './breaker.js'

/** One target's three phases. */
export interface BreakerResult {
  /** 30% of upstream calls fail. */
  partial: PacedReply[]
  partialUpstreamCalls: number
  /** Every upstream call fails. */
  dead: PacedReply[]
  deadUpstreamCalls: number
  /** Upstream calls made before the first request was refused by the open breaker; undefined if it never opened. */
  upstreamCallsUntilOpen: number | undefined
  /** The upstream answers again. */
  back: PacedReply[]
}

/** How the scenario ran, for its method text. */
export interface BreakerSetup extends BreakerPlan {
  requestsPerSecond: number
  failureShare: number
  seed: number
  latencyMs: number
}

const isSuccess = (reply: PacedReply) => reply.status >= 200 && reply.status < 300
const share = (part: number, whole: number) => (whole === 0 ? 'n/a' : `${((part / whole) * 100).toFixed(1)}%`)
const seconds = (ms: number | undefined) => (ms === undefined ? 'never' : (ms / 1000).toFixed(1))

// 20 failures in a row open the breaker; attempts in flight at that moment still land.
const callsUntilOpenBound = 40

function callsUntilOpen(calls: number | undefined): string {
  if (calls === undefined) return 'never opened'
  // Refused before any call: the 30% phase had left it open.
  return calls === 0 ? '0 (open already)' : String(calls)
}

/** The longest time between two successive successful requests (or the phase's edges), by when they were sent. */
function longestWithoutSuccessMs(replies: readonly PacedReply[], phaseMs: number): number {
  let longest = 0
  let previous = 0
  for (const reply of replies) {
    if (!isSuccess(reply)) continue
    longest = Math.max(longest, reply.sentAtMs - previous)
    previous = reply.sentAtMs
  }
  return Math.max(longest, phaseMs - previous)
}

/** When the first request that got an answer was sent, after the upstream came back. */
function recoveryMs(replies: readonly PacedReply[]): number | undefined {
  return replies.find(isSuccess)?.sentAtMs
}

/** The scenario's report: one row per configuration, with the goals checked for the first (the defaults). */
export function breakerReport(targets: readonly BreakerTarget[], results: readonly BreakerResult[], setup: BreakerSetup): ScenarioReport {
  const failures: string[] = []
  const notes: string[] = []
  const rows = targets.map((target, index) => {
    const result = results[index]!
    const all = [...result.partial, ...result.dead, ...result.back]
    const unanswered = all.filter((reply) => reply.status === 0).length
    if (unanswered > 0) failures.push(`${target.name}: ${unanswered} requests got no answer (connection error or timeout)`)
    const partialOk = result.partial.filter(isSuccess).length
    const partialOpen = result.partial.filter((reply) => reply.errorCode === 'circuit_open').length
    const shed = result.dead.filter((reply) => reply.errorCode === 'circuit_open').length
    const recovered = recoveryMs(result.back)
    if (index === 0) {
      const successShare = partialOk / result.partial.length
      notes.push(
        `Goal at 30% 5xx: at least 90% of requests succeed and the breaker stays closed: ${successShare >= 0.9 && partialOpen === 0 ? 'met' : 'not met'} (${share(partialOk, result.partial.length)}, ${partialOpen} circuit_open).`,
      )
      const opened = result.upstreamCallsUntilOpen ?? Number.POSITIVE_INFINITY
      notes.push(
        `Goal at 100%: open within a bounded number of calls (at most ${callsUntilOpenBound}: 20 failures in a row, plus the attempts already in flight when it opens), ` +
          `and answer again within one cool-down (${seconds(setup.coolDownMs)} s) once the upstream is back: ` +
          `${opened <= callsUntilOpenBound && recovered !== undefined && recovered <= setup.coolDownMs ? 'met' : 'not met'} (${result.upstreamCallsUntilOpen ?? 'never opened'} calls, ${seconds(recovered)} s).`,
      )
    }
    return [
      target.name,
      target.rule,
      share(partialOk, result.partial.length),
      String(partialOpen),
      seconds(longestWithoutSuccessMs(result.partial, setup.partialSeconds * 1_000)),
      callsUntilOpen(result.upstreamCallsUntilOpen),
      share(shed, result.dead.length),
      `${result.deadUpstreamCalls} / ${result.dead.length}`,
      seconds(recovered),
    ]
  })
  return {
    title: 'Circuit breaker: partial failure, total failure, recovery',
    method:
      `${setup.requestsPerSecond} requests/s (open loop, a new question each, so every request is a miss) through aicache-express in proxy mode, ` +
      `against the fake upstream (${setup.latencyMs} ms latency), in three phases: ${setup.partialSeconds} s with ${setup.failureShare * 100}% of upstream calls answered 503 ` +
      `(seeded pattern, seed ${setup.seed}), ${setup.deadSeconds} s with every call answered 503, then ${setup.backSeconds} s with none. ` +
      `Retries at their defaults (3 attempts) unless the row says otherwise; cool-down ${setup.coolDownMs / 1000} s` +
      `${Object.keys(setup.breakerOverrides).length === 0 ? '' : ` and window ${(setup.breakerOverrides['windowMs'] ?? 10_000) / 1000} s (shortened for --quick)`}. ` +
      'Each configuration runs in its own process, one after the other. "calls until open" is the fake’s count when the first request was answered circuit_open; ' +
      '"upstream calls / requests" is over the whole 100% phase (probes after a cool-down included); recovery is when the first request that succeeded was sent after the upstream came back.',
    table: {
      columns: [
        { title: 'configuration', align: 'left' },
        { title: 'rule', align: 'left' },
        { title: '30%: success', align: 'right' },
        { title: '30%: circuit_open', align: 'right' },
        { title: '30%: longest without a 200 (s)', align: 'right' },
        { title: '100%: calls until open', align: 'right' },
        { title: '100%: shed (circuit_open)', align: 'right' },
        { title: '100%: upstream calls / requests', align: 'right' },
        { title: 'back: recovery (s)', align: 'right' },
      ],
      rows,
    },
    notes,
    failures,
    // Shares and counts, not ratios against a baseline: the table says it all.
    headlines: [],
    rounds: results.map((result) => ({
      partialUpstreamCalls: result.partialUpstreamCalls,
      deadUpstreamCalls: result.deadUpstreamCalls,
      upstreamCallsUntilOpen: result.upstreamCallsUntilOpen,
      statuses: Object.fromEntries(['partial', 'dead', 'back'].map((name) => [name, countStatuses(result[name as 'partial' | 'dead' | 'back'])])),
    })),
  }
}

function countStatuses(replies: readonly PacedReply[]): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const reply of replies) {
    const label = reply.errorCode === undefined ? String(reply.status) : `${reply.status} ${reply.errorCode}`
    counts[label] = (counts[label] ?? 0) + 1
  }
  return counts
}
