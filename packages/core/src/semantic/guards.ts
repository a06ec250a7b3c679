/**
 * Guards: checks that a stored question and a new one agree on what a
 * sentence embedding blurs. Embeddings place "transfer 50 dollars" beside
 * "transfer 500 dollars" and "my card works" beside "my card does not
 * work"; a cached answer is wrong for the other question all the same.
 * Each guard compares the two texts and says whether they agree.
 */

/** A check of two questions' texts; `agrees` false refuses the neighbour, with `name` as the reason. */
export interface SemanticGuard {
  /** The rejection reason when the guard refuses: a metric label. */
  readonly name: string
  agrees(query: string, stored: string): boolean
}

const NUMBER_WORDS: Record<string, string> = {
  zero: '0',
  one: '1',
  two: '2',
  three: '3',
  four: '4',
  five: '5',
  six: '6',
  seven: '7',
  eight: '8',
  nine: '9',
  ten: '10',
  eleven: '11',
  twelve: '12',
  thirteen: '13',
  fourteen: '14',
  fifteen: '15',
  sixteen: '16',
  seventeen: '17',
  eighteen: '18',
  nineteen: '19',
  twenty: '20',
  thirty: '30',
  forty: '40',
  fifty: '50',
  sixty: '60',
  seventy: '70',
  eighty: '80',
  ninety: '90',
  hundred: '100',
  thousand: '1000',
  million: '1000000',
  billion: '1000000000',
  first: '1st',
  second: '2nd',
  third: '3rd',
  half: '0.5',
  twice: '2x',
  double: '2x',
}

const WORD = /[\p{L}\p{N}][\p{L}\p{N}'’.-]*/gu

function words(text: string): string[] {
  return (text.match(WORD) ?? []).map((word) => word.replace(/[.-]+$/, ''))
}

/** The numbers a text names, digits or words, normalised ("2" and "two" alike; "1,000" as "1000"). */
export function numbersOf(text: string): string[] {
  const found: string[] = []
  for (const match of text.matchAll(/\d[\d,]*(?:\.\d+)?(?:st|nd|rd|th)?/g)) {
    let value = match[0].replace(/,/g, '')
    const ordinal = /(st|nd|rd|th)$/.exec(value)
    if (ordinal) value = `${Number(value.slice(0, -2))}${ordinal[1] === 'th' ? 'th' : ordinal[1]}`
    else value = String(Number(value))
    found.push(value)
  }
  for (const word of words(text.toLowerCase())) {
    const value = NUMBER_WORDS[word]
    if (value !== undefined) found.push(value)
  }
  return found.sort()
}

function sameMultiset(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, i) => value === b[i])
}

/**
 * Numbers agree: the same numbers, amounts, dates and counts in both
 * questions (as a multiset, digits and number words alike).
 */
export const numbersGuard: SemanticGuard = {
  name: 'numbers',
  agrees(query, stored) {
    return sameMultiset(numbersOf(query), numbersOf(stored))
  },
}

const NEGATIONS = new Set(['not', 'no', 'never', 'none', 'nobody', 'nothing', 'neither', 'nor', 'nowhere', 'cannot', 'without', 'unable'])

/** Whether a text is negated: a negation word or a "n't" contraction. */
export function isNegated(text: string): boolean {
  for (const word of words(text.toLowerCase().replace(/’/g, "'"))) {
    if (NEGATIONS.has(word) || word.endsWith("n't")) return true
  }
  return false
}

/** Negations agree: both questions are negated or neither is. */
export const negationGuard: SemanticGuard = {
  name: 'negation',
  agrees(query, stored) {
    return isNegated(query) === isNegated(stored)
  },
}

/**
 * The names a text mentions: capitalised words past the start of a
 * sentence, acronyms, and words mixing letters with digits or inner capitals
 * (GPT-4, iPhone, PyTorch), lower-cased.
 */
export function entitiesOf(text: string): string[] {
  const found = new Set<string>()
  let sentenceStart = true
  for (const match of text.matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’-]*|[.!?]/gu)) {
    const token = match[0]
    if (token === '.' || token === '!' || token === '?') {
      sentenceStart = true
      continue
    }
    const core = token.replace(/['’]s$/, '')
    const capitalised = /^\p{Lu}/u.test(core) && !/^I(?:['’].*)?$/.test(core)
    const acronym = /^\p{Lu}{2,}/u.test(core)
    const mixed = /\p{L}/u.test(core) && /\p{N}/u.test(core)
    const innerCapital = /^\p{L}+$/u.test(core) && /\p{Ll}\p{Lu}/u.test(core)
    if (acronym || mixed || innerCapital || (capitalised && !sentenceStart)) found.add(core.toLowerCase())
    sentenceStart = false
  }
  return [...found]
}

function mentions(text: string, name: string): boolean {
  return words(text.toLowerCase()).some((word) => word === name || word.replace(/['’]s$/, '') === name)
}

/** Named entities agree: every name either question mentions appears in the other too (in any case). */
export const entitiesGuard: SemanticGuard = {
  name: 'entities',
  agrees(query, stored) {
    return entitiesOf(query).every((name) => mentions(stored, name)) && entitiesOf(stored).every((name) => mentions(query, name))
  },
}
