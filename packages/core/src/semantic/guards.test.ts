import { describe, expect, it } from 'vitest'
import { entitiesGuard, entitiesOf, isNegated, negationGuard, numbersGuard, numbersOf } from './guards.js'

describe('numbersGuard', () => {
  it('reads digits, separators, decimals, ordinals and number words alike', () => {
    expect(numbersOf('Send 1,000 dollars and 2.50 euros on the 3rd')).toEqual(['1000', '2.5', '3rd'])
    expect(numbersOf('two tickets')).toEqual(numbersOf('2 tickets'))
  })
  it('refuses questions whose numbers differ and serves those whose numbers agree', () => {
    expect(numbersGuard.agrees('How do I transfer 50 dollars?', 'How can I transfer 500 dollars?')).toBe(false)
    expect(numbersGuard.agrees('Book a table for two', 'Book a table for 2 people')).toBe(true)
    expect(numbersGuard.agrees('What is the capital of France?', 'Which city is the capital of France?')).toBe(true)
    expect(numbersGuard.agrees('Top 10 films of 2023', 'Top 10 films of 2024')).toBe(false)
  })
})

describe('negationGuard', () => {
  it('finds negation words and contractions, straight or curly', () => {
    expect(isNegated("My card doesn't work")).toBe(true)
    expect(isNegated('My card doesn’t work')).toBe(true)
    expect(isNegated('I cannot log in')).toBe(true)
    expect(isNegated('My card works')).toBe(false)
  })
  it('refuses a negated question for an affirmative one', () => {
    expect(negationGuard.agrees('Is it safe to eat raw eggs?', 'Is it not safe to eat raw eggs?')).toBe(false)
    expect(negationGuard.agrees("Why hasn't my card arrived?", 'Why has my card still not arrived?')).toBe(true)
  })
})

describe('entitiesGuard', () => {
  it('takes names past the start of a sentence, acronyms and mixed words, not the pronoun I', () => {
    expect(entitiesOf('How do I install PyTorch on Ubuntu? Then run GPT-4.').sort()).toEqual(['gpt-4', 'pytorch', 'ubuntu'])
    expect(entitiesOf('What is the weather today')).toEqual([])
  })
  it('refuses questions about different named things and serves a change of case', () => {
    expect(entitiesGuard.agrees('What is the population of Paris?', 'What is the population of London?')).toBe(false)
    expect(entitiesGuard.agrees('How tall is the Eiffel Tower?', 'how tall is the eiffel tower')).toBe(true)
    expect(entitiesGuard.agrees('Is TensorFlow faster than PyTorch?', 'Is TensorFlow faster than JAX?')).toBe(false)
  })
})
