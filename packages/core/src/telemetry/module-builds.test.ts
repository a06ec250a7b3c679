import { execFile } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { build } from 'rolldown'
import { build as tsdown } from 'tsdown'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * aicache as users run it: built to ESM and CommonJS (or bundled and
 * minified), in a directory of its own with the `@opentelemetry/api` version
 * under test, run by a separate Node process.
 */
const run = promisify(execFile)
const packageRoot = fileURLToPath(new URL('../..', import.meta.url))
const entry = join(packageRoot, 'src/index.ts')

/** The directory of one of this package's dependencies. */
const packageDirectory = (name: string) => realpathSync(join(packageRoot, 'node_modules', name))

const apis = { '1.9.1': packageDirectory('@opentelemetry/api'), '1.10.0': packageDirectory('otel-api-1-10') }

/** Node script that sends a miss and a hit through `cache.fetch` and prints the spans the SDK got. */
const requests = (upstream: string) => `
  const call = async () => {
    const response = await cache.fetch('${upstream}/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Where is my card?' }] }),
    })
    await response.text()
  }
  await call()
  await call()
  await new Promise((resolve) => setTimeout(resolve, 20))
  console.log(JSON.stringify(exporter.getFinishedSpans().map((span) => span.name).sort()))
  await cache.close()
`

// Builds, bundles and child processes: generous timeouts for a loaded machine.
describe('telemetry in built and bundled code', () => {
  let fake: FakeUpstream
  let directory: string
  beforeAll(async () => {
    fake = await startFakeUpstream()
    directory = mkdtempSync(join(tmpdir(), 'aicache-module-builds-'))
  })
  afterAll(async () => {
    await fake.close()
    rmSync(directory, { recursive: true, force: true })
  })

  /** An app directory: `@aicache/core` built to ESM and CommonJS there, next to the API version given. */
  async function appWith(apiVersion: keyof typeof apis): Promise<string> {
    const app = join(directory, `api-${apiVersion}`)
    const modules = join(app, 'node_modules')
    const core = join(modules, '@aicache/core')
    mkdirSync(core, { recursive: true })
    mkdirSync(join(modules, '@opentelemetry'), { recursive: true })
    // The API as the app installs it; the SDK and aicache's own dependencies from this repository.
    cpSync(apis[apiVersion], join(modules, '@opentelemetry/api'), { recursive: true })
    symlinkSync(packageDirectory('@opentelemetry/sdk-trace-base'), join(modules, '@opentelemetry/sdk-trace-base'))
    for (const name of ['lru-cache', 'gpt-tokenizer', '@pydantic/genai-prices']) {
      mkdirSync(dirname(join(modules, name)), { recursive: true })
      symlinkSync(packageDirectory(name), join(modules, name))
    }
    // Built as the package is (tsdown.config.ts), without its types.
    await tsdown({ config: false, entry: [entry], format: ['esm', 'cjs'], shims: true, target: 'node20', dts: false, outDir: core, logLevel: 'silent' })
    writeFileSync(
      join(core, 'package.json'),
      JSON.stringify({ name: '@aicache/core', type: 'module', exports: { import: './index.mjs', require: './index.cjs' } }),
    )
    return app
  }

  async function node(app: string, file: string, source: string): Promise<string[]> {
    writeFileSync(join(app, file), source)
    const { stdout } = await run(process.execPath, [join(app, file)], { cwd: app })
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[]
  }

  const spansOfOneMissAndOneHit = ['aicache chat', 'aicache chat', 'chat gpt-4o-mini']

  for (const apiVersion of Object.keys(apis) as Array<keyof typeof apis>) {
    describe(`with @opentelemetry/api ${apiVersion}`, () => {
      let app: string
      beforeAll(async () => {
        app = await appWith(apiVersion)
      }, 240_000)

      it('records spans of an engine imported before an SDK registered with require', async () => {
        const spans = await node(
          app,
          'import-then-require.mjs',
          `
          import { createRequire } from 'node:module'
          import { createAiCache } from '@aicache/core'
          const cache = createAiCache({ fetch: (input, init) => fetch(input, init) })
          const require = createRequire(import.meta.url)
          const { trace } = require('@opentelemetry/api')
          const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base')
          const exporter = new InMemorySpanExporter()
          trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
          ${requests(fake.url)}
          `,
        )
        expect(spans).toEqual(spansOfOneMissAndOneHit)
      }, 120_000)

      it('records spans of an engine required before an SDK registered with import', async () => {
        const spans = await node(
          app,
          'require-then-import.mjs',
          `
          import { createRequire } from 'node:module'
          const require = createRequire(import.meta.url)
          const { createAiCache } = require('@aicache/core')
          const cache = createAiCache({ fetch: (input, init) => fetch(input, init) })
          const { trace } = await import('@opentelemetry/api')
          const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
          const exporter = new InMemorySpanExporter()
          trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
          ${requests(fake.url)}
          `,
        )
        expect(spans).toEqual(spansOfOneMissAndOneHit)
      }, 120_000)
    })
  }

  it('skips the clock and spans without an SDK in a minified bundle, and records with one', async () => {
    const app = join(directory, 'minified')
    mkdirSync(app, { recursive: true })
    const source = join(app, 'entry.mjs')
    // The engine and the API in one minified file, as a bundler ships them.
    writeFileSync(
      source,
      `
      export { metrics, trace } from ${JSON.stringify(join(apis['1.9.1'], 'build/esm/index.js'))}
      export { createAiCache } from ${JSON.stringify(entry)}
      `,
    )
    const bundle = join(app, 'bundle.mjs')
    await build({ input: source, platform: 'node', logLevel: 'silent', output: { file: bundle, format: 'esm', minify: true, inlineDynamicImports: true } })
    const runner = join(app, 'runner.mjs')
    writeFileSync(
      runner,
      `
      import { createAiCache, metrics, trace } from './bundle.mjs'
      import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from ${JSON.stringify(join(packageDirectory('@opentelemetry/sdk-trace-base'), 'build/src/index-shim.js'))}
      import { MeterProvider } from ${JSON.stringify(join(packageDirectory('@opentelemetry/sdk-metrics'), 'build/src/index.js'))}
      const exporter = new InMemorySpanExporter()
      if (process.argv[2] === 'sdk') {
        trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
        metrics.setGlobalMeterProvider(new MeterProvider())
      }
      const cache = createAiCache({ fetch: (input, init) => fetch(input, init) })
      const call = async () => {
        const response = await cache.fetch(${JSON.stringify(`${fake.url}/chat/completions`)}, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
          body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Where is my card?' }] }),
        })
        await response.text()
      }
      await call()
      // Hits: without an SDK they neither read the clock nor make spans.
      const now = performance.now.bind(performance)
      let clockReads = 0
      performance.now = () => (clockReads++, now())
      for (let index = 0; index < 10; index++) await call()
      performance.now = now
      await new Promise((resolve) => setTimeout(resolve, 20))
      console.log(JSON.stringify([clockReads, exporter.getFinishedSpans().length]))
      await cache.close()
      `,
    )
    const run = async (...args: string[]) =>
      JSON.parse((await promisify(execFile)(process.execPath, [runner, ...args], { cwd: app })).stdout.trim().split('\n').at(-1)!) as number[]
    expect(await run()).toEqual([0, 0])
    const [clockReads, spans] = await run('sdk')
    expect(clockReads).toBeGreaterThan(0)
    expect(spans).toBe(12)
  }, 240_000)
})
