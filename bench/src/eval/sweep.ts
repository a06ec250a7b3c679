/**
 * Replays an experiment through a judge at each threshold of a sweep.
 */
import type { Experiment } from './experiments.js'
import { type ReplayJudge, scoreTraffic, servedFrom, type TrafficScore } from './scoring.js'

/** A judge under test, by name. */
export interface JudgeVariant {
  readonly name: string
  readonly judge: ReplayJudge
}

/** One point of a sweep. */
export interface SweepPoint {
  readonly threshold: number
  readonly score: TrafficScore
  /** How often each rejection reason refused a query's nearest neighbour at or above the threshold. */
  readonly rejections: Readonly<Record<string, number>>
}

/**
 * Neighbours judged per query: the nearest only. A neighbour the judge
 * refuses ends the lookup: when the nearest stored question is about
 * another amount, name or polarity, the next one is further away and was
 * measured to be wrong more often than right (GPTCache's replay at 0.80:
 * trying three neighbours turned the numbers guard's refusals into 14 more
 * wrong answers).
 */
export const CANDIDATES_TRIED = 1

/** Replays `experiment` through `judge` at `threshold`: the intent each query was served (null for a miss). */
export function replay(experiment: Experiment, judge: ReplayJudge, threshold: number): SweepPoint {
  const cachedTexts = experiment.cached.map((query) => query.text)
  const served: (string | undefined | null)[] = []
  const rejections: Record<string, number> = {}
  experiment.queries.forEach((query, i) => {
    const outcome = servedFrom(query.text, experiment.neighbours[i]!, cachedTexts, judge, { threshold, candidates: CANDIDATES_TRIED })
    served.push(outcome.index === undefined ? null : experiment.cached[outcome.index]!.intent)
    if (outcome.rejection !== undefined && outcome.rejection !== 'threshold') rejections[outcome.rejection] = (rejections[outcome.rejection] ?? 0) + 1
  })
  return {
    threshold,
    score: scoreTraffic(
      experiment.queries.map((query) => query.intent),
      served,
    ),
    rejections,
  }
}

/** Thresholds from `from` to `to` by `step`, rounded to two decimals. */
export function thresholds(from: number, to: number, step: number): number[] {
  const values: number[] = []
  for (let value = from; value <= to + 1e-9; value += step) values.push(Math.round(value * 100) / 100)
  return values
}

/** The sweep of one judge over thresholds. */
export function sweep(experiment: Experiment, variant: JudgeVariant, values: readonly number[]): SweepPoint[] {
  return values.map((threshold) => replay(experiment, variant.judge, threshold))
}

/**
 * The lowest threshold whose point meets `goal` on a tuning replay (most
 * hits that still meet it), or undefined when none does.
 */
export function lowestMeeting(points: readonly SweepPoint[], goal: (score: TrafficScore) => boolean): SweepPoint | undefined {
  return [...points].sort((a, b) => a.threshold - b.threshold).find((point) => goal(point.score))
}
