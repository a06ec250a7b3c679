/**
 * The real query sets the evaluation replays, read from the shared data
 * folder (each keeps its licence file; the report credits each).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

/** A query and the intent that makes a cached answer right for it (`undefined`: out of scope, must miss). */
export interface LabelledQuery {
  readonly text: string
  readonly intent: string | undefined
}

/** A stored question and its paraphrase, from GPTCache's benchmark. */
export interface ParaphrasePair {
  readonly origin: string
  readonly similar: string
}

/** Traffic: questions whose answers are cached, then questions that arrive. */
export interface TrafficSet {
  readonly name: string
  readonly cached: readonly LabelledQuery[]
  readonly queries: readonly LabelledQuery[]
}

/**
 * Parses RFC 4180 CSV: quoted fields may hold commas, doubled quotes and
 * line breaks (Banking77 has rows that span lines).
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const character = text[i]!
    if (quoted) {
      if (character === '"') {
        if (text[i + 1] === '"') {
          field += '"'
          i++
        } else quoted = false
      } else field += character
    } else if (character === '"') quoted = true
    else if (character === ',') {
      row.push(field)
      field = ''
    } else if (character === '\n' || character === '\r') {
      if (character === '\r' && text[i + 1] === '\n') i++
      row.push(field)
      rows.push(row)
      row = []
      field = ''
    } else field += character
  }
  if (field !== '' || row.length > 0) {
    row.push(field)
    rows.push(row)
  }
  return rows.filter((cells) => cells.length > 1 || cells[0] !== '')
}

function banking77Split(dataDirectory: string, file: 'train.csv' | 'test.csv'): LabelledQuery[] {
  const [header, ...rows] = parseCsv(readFileSync(join(dataDirectory, 'banking77', file), 'utf8'))
  if (header?.[0] !== 'text' || header[1] !== 'category') throw new Error(`banking77/${file}: expected the header text,category`)
  return rows.map(([text, category]) => ({ text: text!, intent: category! }))
}

/** GPTCache's mock data: 999 {origin, similar} pairs. */
export function loadGptCachePairs(dataDirectory: string): ParaphrasePair[] {
  const pairs = JSON.parse(readFileSync(join(dataDirectory, 'gptcache', 'mock_data.json'), 'utf8')) as ParaphrasePair[]
  return pairs.map(({ origin, similar }) => ({ origin, similar }))
}

/** Banking77: train.csv as the cache, test.csv as traffic. */
export function loadBanking77(dataDirectory: string): { train: LabelledQuery[]; test: LabelledQuery[] } {
  return { train: banking77Split(dataDirectory, 'train.csv'), test: banking77Split(dataDirectory, 'test.csv') }
}

type ClincSplit = 'train' | 'val' | 'test' | 'oos_train' | 'oos_val' | 'oos_test'

/** CLINC150 (data_full): in-scope splits labelled by intent, out-of-scope splits without one. */
export function loadClinc150(dataDirectory: string): Record<ClincSplit, LabelledQuery[]> {
  const raw = JSON.parse(readFileSync(join(dataDirectory, 'clinc150', 'data_full.json'), 'utf8')) as Record<ClincSplit, Array<[string, string]>>
  const split = (name: ClincSplit) => raw[name].map(([text, intent]) => ({ text, intent: intent === 'oos' ? undefined : intent }))
  return {
    train: split('train'),
    val: split('val'),
    test: split('test'),
    oos_train: split('oos_train'),
    oos_val: split('oos_val'),
    oos_test: split('oos_test'),
  }
}
