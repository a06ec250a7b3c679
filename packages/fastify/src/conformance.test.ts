import { describeConformance } from '@aicache/testkit/conformance'
import { fastifyHarness } from '../test/support/test-apps.js'

describeConformance('fastify', fastifyHarness)
