import { describeConformance } from '@aicache/testkit/conformance'
import { fastifyHarness } from './test-apps.js'

describeConformance('fastify', fastifyHarness)
