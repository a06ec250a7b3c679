import { describeConformance } from '@aicache/testkit/conformance'
import { expressHarness } from './test-apps.js'

describeConformance('express', expressHarness)
