/**
 * Parses CSV as RFC 4180 defines it: comma-separated fields, fields in
 * double quotes may hold commas, line breaks and `""` for a quote. Accepts
 * LF and CRLF line ends; a final line end adds no empty record.
 *
 * @example
 * ```ts
 * parseCsv('text,category\n"Hi, there",greeting\n') // [['text', 'category'], ['Hi, there', 'greeting']]
 * ```
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = []
  let record: string[] = []
  let field = ''
  let quoted = false
  let index = 0
  const endField = () => {
    record.push(field)
    field = ''
  }
  const endRecord = () => {
    endField()
    records.push(record)
    record = []
  }
  while (index < text.length) {
    const character = text[index] as string
    if (quoted) {
      if (character !== '"') field += character
      else if (text[index + 1] === '"') {
        field += '"'
        index++
      } else quoted = false
    } else if (character === '"') quoted = true
    else if (character === ',') endField()
    else if (character === '\n') endRecord()
    else if (character === '\r' && text[index + 1] === '\n') {
      endRecord()
      index++
    } else field += character
    index++
  }
  if (quoted) throw new Error('CSV ends inside a quoted field')
  if (field !== '' || record.length > 0) endRecord()
  return records
}
