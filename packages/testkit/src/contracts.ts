/**
 * Contract suites for the storage a cache engine runs on: a cache store (a
 * memory or remote tier) and a rate limiter's counter store. Write your own
 * store, pass the test runner and a factory, and it is held to the same
 * tests as the built-in ones.
 *
 * @example
 * ```ts
 * import * as vitest from 'vitest'
 * import { describeStoreContract } from '@aicache/testkit/contracts'
 *
 * describeStoreContract(vitest, { name: 'my store', create: async () => ({ store: myStore, close: async () => {} }) })
 * ```
 */
export type { ContractExpect, ContractMatchers, ContractRunner } from './contracts/runner.js'
export {
  type ContractEntry,
  type ContractEvent,
  type ContractStore,
  describeStoreContract,
  expectSameEntry,
  sampleEntry,
  type StoreContractOptions,
  type StoreUnderTest,
} from './contracts/store-contract.js'
export {
  type ContractAdmission,
  type ContractRateLimiter,
  type ContractRateLimitOptions,
  type ContractRejection,
  describeRateLimiterContract,
  type RateLimiterContractOptions,
} from './contracts/rate-limiter-contract.js'
