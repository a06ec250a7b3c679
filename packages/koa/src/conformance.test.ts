import { describeConformance } from '@aicache/testkit/conformance'
import { koaHarness } from '../test/support/test-apps.js'

describeConformance('koa', koaHarness)
