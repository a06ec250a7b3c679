import { describe, expect, it } from 'vitest'
import { numbersGuard } from './guards.js'
import { createGuardedJudge } from './judge-guarded.js'

const neighbour = (text: string, similarity: number) => ({ key: 'k', text, similarity })

describe('createGuardedJudge', () => {
  it('refuses below the threshold, then names the first guard that refuses', () => {
    const judge = createGuardedJudge({ borderlineBand: 0 })
    expect(judge.judge('How do I reset my password?', neighbour('How can I reset my password?', 0.79), 0.8)).toBe('threshold')
    expect(judge.judge('How do I reset my password?', neighbour('How can I reset my password?', 0.95), 0.8)).toBeUndefined()
    expect(judge.judge('Transfer 50 dollars to Anna', neighbour('Transfer 500 dollars to Anna', 0.97), 0.8)).toBe('numbers')
    expect(judge.judge('Transfer money to Anna', neighbour('Transfer money to Bob', 0.97), 0.8)).toBe('entities')
    expect(judge.judge('My card works', neighbour('My card does not work', 0.97), 0.8)).toBe('negation')
  })

  it('asks for a second opinion in the borderline band only', () => {
    const judge = createGuardedJudge({ guards: [numbersGuard], borderlineBand: 0.05, borderlineMinOverlap: 0.5 })
    const unrelatedWords = neighbour('Which ingredients go into a proper carbonara?', 0.82)
    expect(judge.judge('How do I cook pasta the Roman way?', unrelatedWords, 0.8)).toBe('borderline')
    expect(judge.judge('How do I cook pasta the Roman way?', { ...unrelatedWords, similarity: 0.86 }, 0.8)).toBeUndefined()
    expect(judge.judge('How do I cook carbonara?', neighbour('How should I cook carbonara?', 0.82), 0.8)).toBeUndefined()
  })

  it('rejects options out of range at creation', () => {
    expect(() => createGuardedJudge({ borderlineBand: 2 })).toThrow(/borderlineBand/)
    expect(() => createGuardedJudge({ borderlineMinOverlap: -1 })).toThrow(/borderlineMinOverlap/)
  })
})
