// ESLint: the recommended rules of ESLint and typescript-eslint (without type
// information), plus the package boundaries of decision 0036. Formatting is
// Prettier's (`pnpm lint` runs both).
import js from '@eslint/js'
import { defineConfig, globalIgnores } from 'eslint/config'
import tseslint from 'typescript-eslint'

// Other packages, examples, the benchmark and the consumer tests reach the
// core only through its public entry points (decision 0035): no
// `@aicache/core/dist/...` or `@aicache/core/src/...`, no relative path into
// packages/core.
const coreEntryPoints = [
  {
    regex: '^@aicache/core/(?!(adapter|redis)$)',
    message: 'Import the core through `@aicache/core`, `@aicache/core/adapter` or `@aicache/core/redis` only.',
  },
  {
    regex: '^\\.\\.?/(.*/)?core/(src|dist)(/|$)',
    message: 'Import the core through `@aicache/core`, `@aicache/core/adapter` or `@aicache/core/redis`, not by a path into packages/core.',
  },
]

// Helpers that only tests may load: the test runner, the fake upstream and
// conformance suite, and the test support modules beside the sources.
const testHelpers = ['test-apps', 'test-gateway', 'test-sdk', 'redis-test-support', 'rate-limiter-suite', 'store-contract', 'resilient-upstream-helpers']
const testOnly = [
  { regex: '^(vitest|@aicache/testkit)(/|$)', message: 'Test tooling: only tests and test helpers import it.' },
  { regex: `(^|/)(${testHelpers.join('|')})(\\.js)?$`, message: 'A test helper: only tests import it.' },
]
const testFiles = ['**/*.test.ts', ...testHelpers.map((name) => `**/${name}.ts`)]

// The app-facing entry point names no Redis types: they are the `./redis`
// subpath's, and the declarations of the main entry must not need ioredis.
const noIoredis = { name: 'ioredis', message: 'Public entry points describe ioredis clients structurally (`IoredisClient`), never by importing ioredis.' }
const noRedisTypes = ['./store/redis-client.js', './store/redis-layer-options.js'].map((name) => ({
  name,
  message: 'Redis types are exported from src/redis.ts (`@aicache/core/redis`), not from the main entry.',
}))

const restrict = (patterns, paths = []) => ['error', { patterns, paths }]

export default defineConfig(
  globalIgnores(['**/dist/', '**/node_modules/', '**/.turbo/', 'coverage/', 'tarballs/', 'bench/results/']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks what is unused on purpose (Express's four-argument error handlers, drained chunks).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['packages/!(core)/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts', 'tests/**/*.ts'],
    rules: { 'no-restricted-imports': restrict(coreEntryPoints) },
  },
  {
    files: ['packages/core/src/**/*.ts'],
    ignores: testFiles,
    rules: { 'no-restricted-imports': restrict(testOnly) },
  },
  {
    files: ['packages/{express,koa,fastify}/src/**/*.ts'],
    ignores: testFiles,
    rules: { 'no-restricted-imports': restrict([...coreEntryPoints, ...testOnly]) },
  },
  {
    files: ['packages/core/src/adapter.ts', 'packages/core/src/redis.ts'],
    rules: { 'no-restricted-imports': restrict(testOnly, [noIoredis]) },
  },
  {
    files: ['packages/core/src/index.ts'],
    rules: { 'no-restricted-imports': restrict(testOnly, [noIoredis, ...noRedisTypes]) },
  },
)
