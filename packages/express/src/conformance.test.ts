import { describeConformance } from '@aicache/testkit/conformance'
import express from 'express'
import { express4Module, expressHarness } from '../test/support/test-apps.js'

describeConformance('express 5', expressHarness(express))
describeConformance('express 4', expressHarness(express4Module))
