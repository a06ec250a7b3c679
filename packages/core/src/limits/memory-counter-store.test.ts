import { createMemoryCounterStore } from './memory-counter-store.js'
import { rateLimiterSuite } from './rate-limiter-suite.js'

rateLimiterSuite('memory', createMemoryCounterStore)
