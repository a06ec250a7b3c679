/**
 * The parts of a test runner the contract suites use, passed in rather than
 * imported, so that the suites run under the caller's own copy of Vitest
 * (or any runner with the same shape) and nothing here loads a runner.
 *
 * @example
 * ```ts
 * import { afterAll, beforeAll, describe, expect, it } from 'vitest'
 *
 * const runner = { describe, it, expect, beforeAll, afterAll }
 * ```
 */
export interface ContractRunner {
  describe(name: string, body: () => void): unknown
  it(name: string, body: () => Promise<void> | void): unknown
  beforeAll(hook: () => Promise<void> | void): unknown
  afterAll(hook: () => Promise<void> | void): unknown
  expect: ContractExpect
}

/** The assertions the contract suites make, as Vitest's and Jest's `expect` offer them. */
export interface ContractMatchers {
  toBe(expected: unknown): void
  toEqual(expected: unknown): void
  toMatchObject(expected: object): void
  toBeDefined(): void
  toBeUndefined(): void
  toBeLessThan(expected: number): void
}

/** `expect(actual)`. */
export type ContractExpect = (actual: unknown) => ContractMatchers
