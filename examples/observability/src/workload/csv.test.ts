import { describe, expect, it } from 'vitest'
import { readBanking77 } from './banking77.js'
import { parseCsv } from './csv.js'

describe('parseCsv', () => {
  it('keeps commas, line breaks and doubled quotes inside quoted fields', () => {
    const csv = 'text,category\n"Hi, I said ""stop""\nthen left",a\r\nplain,b\n'
    expect(parseCsv(csv)).toEqual([
      ['text', 'category'],
      ['Hi, I said "stop"\nthen left', 'a'],
      ['plain', 'b'],
    ])
  })

  it('keeps empty fields and a last line without a line end', () => {
    expect(parseCsv('a,,c\n,x,')).toEqual([
      ['a', '', 'c'],
      ['', 'x', ''],
    ])
  })

  it('refuses a quote that is never closed', () => {
    expect(() => parseCsv('"open,field\n')).toThrow(/quoted field/)
  })
})

describe('readBanking77', () => {
  it('reads every question of the shipped test split with its category', () => {
    const questions = readBanking77()
    expect(questions).toHaveLength(3080)
    expect(new Set(questions.map((question) => question.category)).size).toBe(77)
    expect(questions.every((question) => question.text.length > 0)).toBe(true)
    expect(questions).toContainEqual({ text: 'I still have not received my new card, I ordered over a week ago.', category: 'card_arrival' })
  })
})
