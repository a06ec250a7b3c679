import { describeRateLimiterContract } from '@aicache/testkit/contracts'
import * as vitest from 'vitest'
import { createMemoryCounterStore } from './memory-counter-store.js'
import { createRateLimiter } from './rate-limiter.js'

describeRateLimiterContract(vitest, { name: 'memory', createStore: createMemoryCounterStore, createRateLimiter })
