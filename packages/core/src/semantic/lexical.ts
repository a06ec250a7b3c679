/**
 * Word overlap of two questions: a second opinion that owes nothing to the
 * embedding model, for neighbours whose similarity is borderline.
 */

const STOP_WORDS = new Set(
  (
    'a an the and or but if then so of to in on at by for with from as is are was were be been being am do does did doing have has had having ' +
    'i me my mine we us our you your he him his she her it its they them their this that these those there here what which who whom whose ' +
    'how when where why can could would should will shall may might must just also very too please any some'
  ).split(' '),
)

/** Content-word stems of a text: lower-cased, stop words dropped, common suffixes cut. */
export function contentStems(text: string): Set<string> {
  const stems = new Set<string>()
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    if (STOP_WORDS.has(word)) continue
    stems.add(word.length > 4 ? word.replace(/(?:ing|ed|es|s|ly)$/, '') : word)
  }
  return stems
}

/** Dice coefficient of two texts' content-word stems: 1 for the same words, 0 for none shared (1 when both have none). */
export function lexicalSimilarity(a: string, b: string): number {
  const left = contentStems(a)
  const right = contentStems(b)
  if (left.size === 0 && right.size === 0) return 1
  let shared = 0
  for (const stem of left) if (right.has(stem)) shared++
  return (2 * shared) / (left.size + right.size)
}
