/** Tables rendered as markdown whose columns are padded, so the same text reads well in a terminal. */

/** A table of already formatted cells. */
export interface Table {
  columns: readonly Column[]
  rows: readonly (readonly string[])[]
}

/** A column header; numbers read best right-aligned. */
export interface Column {
  title: string
  align: 'left' | 'right'
}

function pad(text: string, width: number, align: Column['align']): string {
  return align === 'right' ? text.padStart(width) : text.padEnd(width)
}

/** The table as aligned markdown lines. */
export function renderTable(table: Table): string {
  const widths = table.columns.map((column, index) => Math.max(3, column.title.length, ...table.rows.map((row) => (row[index] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    `| ${table.columns.map((column, index) => pad(cells[index] ?? '', widths[index]!, column.align)).join(' | ')} |`
  const rule = table.columns.map((column, index) => {
    const dashes = '-'.repeat(widths[index]!)
    return column.align === 'right' ? `${dashes.slice(1)}:` : dashes
  })
  return [line(table.columns.map((column) => column.title)), `| ${rule.join(' | ')} |`, ...table.rows.map(line)].join('\n')
}
