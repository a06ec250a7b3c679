import { type ContractEntry, expectSameEntry as expectSameEntryWith, sampleEntry as contractSampleEntry } from '@aicache/testkit/contracts'
import { expect } from 'vitest'
import type { CacheEntry } from '../../src/store/entry.js'

// The testkit writes the entry out, as it cannot depend on the core: these
// two lines stop compiling the day the two shapes differ.
const toContract = (entry: CacheEntry): ContractEntry => entry
const toCache = (entry: ContractEntry): CacheEntry => entry

/** A fresh entry; `overrides` replace any field. */
export function sampleEntry(overrides: Partial<CacheEntry> = {}): CacheEntry {
  return toCache(contractSampleEntry(overrides))
}

/** Asserts that `actual` is `expected`, the body compared as bytes. */
export function expectSameEntry(actual: CacheEntry | undefined, expected: CacheEntry): void {
  expectSameEntryWith(expect, actual === undefined ? undefined : toContract(actual), expected)
}
