import { describeConformance } from '@aicache/testkit/conformance'
import { koaHarness } from './test-apps.js'

describeConformance('koa', koaHarness)
