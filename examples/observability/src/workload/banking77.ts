import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseCsv } from './csv.js'

/** One customer question of banking77 and its intent. */
export interface BankingQuestion {
  text: string
  category: string
}

/**
 * The test split of banking77 shipped with this example (PolyAI, CC BY 4.0,
 * see `data/README.md`): real customer-support questions of a bank.
 */
export const banking77Path = fileURLToPath(new URL('../../data/banking77-test.csv', import.meta.url))

/**
 * Reads banking77 questions from a `text,category` CSV.
 *
 * @example
 * ```ts
 * const [first] = readBanking77() // { text: 'How do I locate my card?', category: 'card_arrival' }
 * ```
 */
export function readBanking77(path: string = banking77Path): BankingQuestion[] {
  const [header, ...rows] = parseCsv(readFileSync(path, 'utf8'))
  if (header?.[0] !== 'text' || header[1] !== 'category') throw new Error(`${path}: expected a 'text,category' header`)
  return rows.map(([text = '', category = '']) => ({ text, category }))
}
