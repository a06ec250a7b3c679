import { builtinModules } from 'node:module'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConsumerApp, createConsumerApp, packWithTheDocumentedCommand, publishedPackages, runApp, typeCheck } from './consumer-app.js'

// A user's app outside the workspace: the packed tarballs (core alongside the
// adapter, as the docs say) and the frameworks from the registry, one npm install.

interface PackedManifest {
  name: string
  version: string
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  exports: Record<string, unknown>
  files?: string[]
}

interface AppReport {
  moduleSystem: 'esm' | 'commonjs'
  invalidOptionRecognised: boolean
  adapterErrorShared: boolean
  embeddingDimensions: number
  results: Array<{
    framework: string
    moduleSystem: string
    cacheStatus: [string | null, string | null]
    sameAnswer: boolean
    stats: { misses: number; hits: { l1: number } }
  }>
}

const packageNames = publishedPackages.map((folder) => `@aicache/${folder}`)

describe('the packed packages in an app outside the workspace', () => {
  let root: string
  let app: ConsumerApp
  let fake: FakeUpstream
  // Stops npm and tsc if the run ends before they do.
  const stop = new AbortController()
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'aicache-consumer-'))
    fake = await startFakeUpstream()
    const tarballs = await packWithTheDocumentedCommand()
    app = await createConsumerApp(join(root, 'app'), tarballs, stop.signal)
  })
  afterAll(async () => {
    stop.abort()
    await fake?.close()
    if (root) rmSync(root, { recursive: true, force: true, maxRetries: 5 })
  })

  function installed(name: string): { directory: string; manifest: PackedManifest; text: string } {
    const directory = join(app.directory, 'node_modules', name)
    const text = readFileSync(join(directory, 'package.json'), 'utf8')
    return { directory, manifest: JSON.parse(text) as PackedManifest, text }
  }

  it.each(packageNames)('%s installs with registry ranges, ESM + CommonJS + types exports, and a README', (name) => {
    const { directory, manifest, text } = installed(name)
    expect(text).not.toMatch(/workspace:/)
    const core = installed('@aicache/core').manifest
    // The adapters build on the core; the offline embedder stands alone.
    if (name !== '@aicache/core' && name !== '@aicache/embeddings-local') expect(manifest.dependencies?.['@aicache/core']).toBe(`^${core.version}`)
    const subpaths = Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json')
    expect(subpaths).toEqual(name === '@aicache/core' ? ['.', './adapter', './redis'] : ['.'])
    for (const subpath of subpaths) {
      const entry = manifest.exports[subpath] as Record<'import' | 'require', { types: string; default: string }>
      for (const condition of ['import', 'require'] as const) {
        for (const file of [entry[condition].types, entry[condition].default]) expect(existsSync(join(directory, file)), `${name} ${file}`).toBe(true)
      }
      expect(entry.import.types, `${name} ${subpath}`).toMatch(/\.d\.mts$/)
      expect(entry.import.default, `${name} ${subpath}`).toMatch(/\.mjs$/)
      expect(entry.require.types, `${name} ${subpath}`).toMatch(/\.d\.cts$/)
      expect(entry.require.default, `${name} ${subpath}`).toMatch(/\.cjs$/)
    }
    expect(readFileSync(join(directory, 'README.md'), 'utf8')).toMatch(/npm install|pnpm add/)
    // Only what users run: no sources, tests or configs in the tarball (node_modules is npm's, for its dependencies).
    expect(
      readdirSync(directory)
        .filter((entry) => entry !== 'node_modules')
        .sort(),
    ).toEqual(['README.md', 'dist', 'package.json'])
  })

  it.each(packageNames)('%s imports only its dependencies, peers and Node built-ins', (name) => {
    const { directory, manifest } = installed(name)
    const declared = new Set([name, ...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])
    const code = readdirSync(join(directory, 'dist'))
      .filter((file) => /\.(mjs|cjs)$/.test(file))
      .map((file) => readFileSync(join(directory, 'dist', file), 'utf8'))
      .join('\n')
      .split('\n')
      // Examples in doc comments name packages the code never loads.
      .filter((line) => !/^\s*(\*|\/\*\*|\/\/)/.test(line))
      .join('\n')
    const specifiers = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)["']([^"'./][^"']*)["']/gm)].map((match) => match[1]!)
    expect(specifiers.length).toBeGreaterThan(0)
    const undeclared = specifiers.filter((specifier) => {
      if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return false
      const parts = specifier.split('/')
      const packageName = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
      return !declared.has(packageName)
    })
    expect(undeclared).toEqual([])
  })

  it('@aicache/core declares ioredis clients structurally: no declaration file imports ioredis', () => {
    const dist = join(installed('@aicache/core').directory, 'dist')
    const declarations = readdirSync(dist).filter((file) => /\.d\.[cm]ts$/.test(file))
    expect(declarations.length).toBeGreaterThan(0)
    for (const file of declarations) {
      // Examples in doc comments import ioredis; the declarations themselves must not.
      const code = readFileSync(join(dist, file), 'utf8')
        .split('\n')
        .filter((line) => !/^\s*(\*|\/\*\*|\/\/)/.test(line))
        .join('\n')
      expect(code, file).not.toMatch(/(?:\bfrom|\bimport\s*\(|\brequire\s*\()\s*["']ioredis["']/)
    }
  })

  // Every declaration file checked twice (about 10 s of CPU each): generous on a shared machine.
  it('type-checks an ESM and a CommonJS app with skipLibCheck: false, without ioredis installed', { timeout: 300_000 }, async () => {
    expect(existsSync(join(app.directory, 'node_modules/ioredis'))).toBe(false)
    const checked = await typeCheck(app, stop.signal)
    expect(checked.output).toBe('')
    expect(checked.code).toBe(0)
  })

  it.each([
    ['esm', 'dist/app.mjs'],
    ['commonjs', 'dist/app.cjs'],
  ] as const)('runs as %s on Express, Koa and Fastify: a miss, then a hit', async (moduleSystem, file) => {
    const before = fake.callCount()
    const report = JSON.parse(await runApp(app, file, fake.url)) as AppReport
    expect(report.moduleSystem).toBe(moduleSystem)
    expect(report.results.map((result) => result.framework)).toEqual(['express', 'koa', 'fastify'])
    for (const result of report.results) {
      expect(result.cacheStatus[0], result.framework).toMatch(/fwd=uri-miss/)
      expect(result.cacheStatus[1], result.framework).toMatch(/hit/)
      expect(result.sameAnswer, result.framework).toBe(true)
      expect(result.stats, result.framework).toMatchObject({ misses: 1, hits: { l1: 1 } })
    }
    // One upstream call per framework: the hits never left the app.
    expect(fake.callCount() - before).toBe(3)
    expect(report.invalidOptionRecognised).toBe(true)
    expect(report.adapterErrorShared).toBe(true)
    expect(report.embeddingDimensions).toBe(512)
  })
})
