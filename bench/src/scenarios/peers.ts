/**
 * Scenario: an L1 hit against peers doing the same job on Express, from
 * their published npm packages: apicache, and the tutorial LRU middleware;
 * bare Express (parse the JSON, send the bytes) as the baseline. Peers that
 * cannot answer a hit correctly are checked in the same run and reported as
 * not comparable, with the evidence, rather than given a number.
 */
import { type BenchServer, type BenchServerName, startBenchServer } from '../bench-server.js'
import { startFakeUpstream } from '../fake-upstream.js'
import { startTogether } from '../process.js'
import { formatRatio } from '../format.js'
import type { LoadResult } from '../load.js'
import type { RunPlan } from '../plan.js'
import { checkPortkeyCache, type PortkeyCacheCheck, portkeyVersion, startPortkey } from '../portkey.js'
import { runInterleavedRounds, type RoundResults } from '../rounds.js'
import type { Headline, ReportSection, Scenario, ScenarioReport } from '../scenario.js'
import { APICACHE_KEY_VARIABLE } from '../servers/environment.js'
import { median } from '../statistics.js'
import { answersEachQuestion, answersRepeatFromCache, fixedRequestTarget, primeJsonHit } from '../targets.js'
import { type Comparison, ratiosOf, requestsPerCpuSecond, THROUGHPUT_METHOD_TAIL, throughputFailures, throughputTable } from '../throughput-table.js'
import { versionOf } from '../versions.js'
import { CHAT_COMPLETIONS_PATH, chatRequestBody } from '../workload.js'

interface PeerSpec {
  name: string
  server: BenchServerName
  /** Whether a repeated request must be a hit (aicache says so in Cache-Status). */
  aicache: boolean
  /** Whether it caches: it must then answer a different question with its own answer. */
  caches: boolean
}

// The baseline first, then each cache.
const TARGETS: readonly PeerSpec[] = [
  { name: 'bare-express', server: 'bare-express', aicache: false, caches: false },
  { name: 'aicache-express', server: 'aicache-express', aicache: true, caches: true },
  { name: 'apicache', server: 'apicache-express', aicache: false, caches: true },
  { name: 'lru-middleware', server: 'lru-middleware', aicache: false, caches: true },
]
const AICACHE_INDEX = 1
const PEER_INDEXES = [2, 3]
const APICACHE_DEFAULT = 'apicache-default-key'
const CONNECTIONS = 10

function comparisons(): Comparison[] {
  return TARGETS.map((_spec, targetIndex) => ({ targetIndex, baselineIndex: targetIndex === 0 ? undefined : 0 }))
}

/** Median over rounds of aicache ÷ a peer in the same round. */
function aicacheOver(results: RoundResults<LoadResult>, peerIndex: number, value: (result: LoadResult) => number): number {
  return median(ratiosOf(results, AICACHE_INDEX, peerIndex, value))
}

/** Evidence, from this run, about the peers that are not measured on a hit. */
interface NotComparable {
  apicacheDefaultAnswersEachQuestion: boolean
  portkey: PortkeyCacheCheck
}

function notComparableSection(evidence: NotComparable): ReportSection {
  const apicacheVerdict = evidence.apicacheDefaultAnswersEachQuestion
    ? 'comparable (answered a different question with its own answer)'
    : 'not comparable: keys by URL only'
  const portkeyCaches = evidence.portkey.upstreamCalls < 2
  const portkeyVerdict = portkeyCaches ? 'caches (not measured here yet)' : 'not comparable: the published build has no response cache'
  return {
    title: 'Peers not measured on a hit',
    method:
      'Checked in this run, each in its own process in front of the same fake upstream. apicache with its default options (no appendKey): ' +
      'the benchmark request, then a different question to the same route. Portkey’s gateway (node build/start-server.js from npm, ' +
      'provider openai at the fake upstream): the same request twice with x-portkey-config { cache: { mode: "simple" } }, upstream calls counted. ' +
      `What Portkey has, proxying, is measured in miss-overhead.`,
    table: {
      columns: [
        { title: 'peer', align: 'left' },
        { title: 'version', align: 'left' },
        { title: 'on a hit', align: 'left' },
        { title: 'evidence from this run', align: 'left' },
      ],
      rows: [
        [
          'apicache, default options',
          versionOf('apicache'),
          apicacheVerdict,
          evidence.apicacheDefaultAnswersEachQuestion
            ? 'a different question got its own answer'
            : 'a different question got the first question’s answer: every POST to the route shares one entry, wrong for an LLM cache',
        ],
        [
          '@portkey-ai/gateway',
          portkeyVersion(),
          portkeyVerdict,
          `2 identical requests with cache mode simple: ${evidence.portkey.upstreamCalls} upstream calls, x-portkey-cache-status: ${evidence.portkey.cacheStatus}`,
        ],
      ],
    },
    notes: ['apicache is measured above with its documented appendKey option set to a SHA-256 of the parsed body, which makes it key by question.'],
  }
}

function peersReport(results: RoundResults<LoadResult>, plan: RunPlan, body: string, evidence: NotComparable): ScenarioReport {
  const headlines: Headline[] = PEER_INDEXES.map((peerIndex) => ({
    label: `peers: aicache-express ÷ ${TARGETS[peerIndex]!.name}, req/s`,
    value: aicacheOver(results, peerIndex, (result) => result.requestsPerSecond),
  }))
  const notes = PEER_INDEXES.map((peerIndex) => {
    const name = TARGETS[peerIndex]!.name
    const rate = aicacheOver(results, peerIndex, (result) => result.requestsPerSecond)
    const cpu = aicacheOver(results, peerIndex, requestsPerCpuSecond)
    return `aicache-express ÷ ${name} (no goal set; medians of per-round ratios): ${formatRatio(rate)} on req/s, ${formatRatio(cpu)} on req / server CPU-s.`
  })
  return {
    title: 'L1 hit against peers',
    method:
      `Same POST ${CHAT_COMPLETIONS_PATH} (${Buffer.byteLength(body)} B JSON) every time, as in l1-hit, ${CONNECTIONS} connections, each on Express 5 in its own process. ` +
      "apicache (npm) is apicache.middleware('1 hour') after express.json(), with appendKey: a SHA-256 of JSON.stringify(req.body), statusCodes 200; " +
      'lru-middleware is the tutorial cache of l1-hit (lru-cache, SHA-256 of the body, res.json). Every cache was checked to answer a repeated request ' +
      'from its cache and a different question with its own answer. ' +
      `warm-up ${plan.warmUpSeconds} s, then ${plan.roundCount} interleaved rounds of ${plan.roundSeconds} s per target. ${THROUGHPUT_METHOD_TAIL}`,
    table: throughputTable(results, comparisons()),
    notes,
    moreSections: [notComparableSection(evidence)],
    failures: throughputFailures(results),
    headlines,
    rounds: { results, evidence },
  }
}

/** Checks apicache with its default key and Portkey, then stops them before any load. */
async function gatherEvidence(
  apicacheDefault: BenchServer,
  portkey: BenchServer,
  fake: Awaited<ReturnType<typeof startFakeUpstream>>,
  body: string,
): Promise<NotComparable> {
  try {
    await primeJsonHit(apicacheDefault, APICACHE_DEFAULT, body, false)
    const apicacheDefaultAnswersEachQuestion = await answersEachQuestion(apicacheDefault, APICACHE_DEFAULT, 'a different question')
    return { apicacheDefaultAnswersEachQuestion, portkey: await checkPortkeyCache(portkey, fake, body) }
  } finally {
    await Promise.all([apicacheDefault.process.stop(), portkey.process.stop()])
  }
}

async function runPeers(plan: RunPlan): Promise<ScenarioReport> {
  const stoppables: Array<{ stop(): Promise<void> }> = []
  try {
    const fake = await startFakeUpstream('fake-upstream', 0)
    stoppables.push(fake.process)
    const body = chatRequestBody()
    const all = await startTogether(
      [
        ...TARGETS.map((spec) => startBenchServer(spec.server, fake.url, {}, spec.name)),
        startBenchServer('apicache-express', fake.url, { [APICACHE_KEY_VARIABLE]: 'url' }, APICACHE_DEFAULT),
        startPortkey(fake.url),
      ],
      stoppables,
    )
    const servers = all.slice(0, TARGETS.length)
    const [apicacheDefault, portkey] = all.slice(TARGETS.length) as [BenchServer, BenchServer]
    const evidence = await gatherEvidence(apicacheDefault, portkey, fake, body)
    for (const [index, spec] of TARGETS.entries()) {
      const server = servers[index]!
      await primeJsonHit(server, spec.name, body, spec.aicache)
      if (!spec.caches) continue
      if (!(await answersRepeatFromCache(server, spec.name, body))) {
        throw new Error(`${spec.name} did not answer the repeated request from its cache (the upstream's answer changed)`)
      }
      if (!(await answersEachQuestion(server, spec.name, 'a different question'))) {
        throw new Error(`${spec.name} answered a different question with a cached answer: its numbers would be of a wrong cache`)
      }
    }
    const targets = TARGETS.map((spec, index) => fixedRequestTarget(spec.name, servers[index]!, body, CONNECTIONS))
    const results = await runInterleavedRounds(targets, plan)
    return peersReport(results, plan, body, evidence)
  } finally {
    await Promise.all(stoppables.map((stoppable) => stoppable.stop()))
  }
}

/** Throughput of a hit through aicache against apicache and a tutorial LRU cache, on Express. */
export const peersScenario: Scenario = {
  name: 'peers',
  fullPlan: { warmUpSeconds: 2, roundCount: 3, roundSeconds: 2.5 },
  run: runPeers,
}
