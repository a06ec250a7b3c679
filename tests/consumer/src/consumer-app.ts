import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The repository root. */
export const repositoryRoot = fileURLToPath(new URL('../../..', import.meta.url))

/** The packages users install, by folder under packages/. */
export const publishedPackages = ['core', 'express', 'koa', 'fastify', 'embeddings-local'] as const

function manifest(folder: string): { version: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(repositoryRoot, 'packages', folder, 'package.json'), 'utf8'))
}

// The frameworks and types at the versions the workspace tests them with, so the two never drift apart.
function registryPackages(): string[] {
  const pinned = (folder: string, name: string) => {
    const version = manifest(folder).devDependencies?.[name]
    if (!version) throw new Error(`packages/${folder} has no devDependency ${name}`)
    return `${name}@${version}`
  }
  return [
    pinned('express', 'express'),
    pinned('express', '@types/express'),
    pinned('koa', 'koa'),
    pinned('koa', '@types/koa'),
    pinned('fastify', 'fastify'),
    pinned('core', 'typescript'),
    pinned('core', '@types/node'),
  ]
}

/**
 * The environment of npm and node in the consumer app: this process's,
 * without what pnpm and turbo set for the workspace (npm_config_*,
 * npm_package_*, NODE_PATH), so nothing of the workspace leaks in. The
 * registry and npm's cache stay the user's.
 */
export function outsideEnvironment(): NodeJS.ProcessEnv {
  const kept = new Set(['npm_config_registry', 'npm_config_cache', 'npm_config_userconfig'])
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => kept.has(name) || !/^(npm_|NODE_PATH$|NODE_OPTIONS$|INIT_CWD$|PNPM_)/i.test(name)))
}

/**
 * Packs the published packages with the command docs/getting-started.md
 * gives users (`pnpm tarballs`: a build, then `pnpm pack`, which turns
 * `workspace:` ranges into versions) and returns the tarballs of the
 * current versions, from the repository's tarballs/ folder.
 */
export async function packWithTheDocumentedCommand(): Promise<string[]> {
  await run('pnpm', ['tarballs'], {
    cwd: repositoryRoot,
    env: { ...process.env, npm_config_manage_package_manager_versions: 'false' },
    maxBuffer: 16 * 1024 * 1024,
  })
  return publishedPackages.map((folder) => {
    const { version } = manifest(folder)
    return join(repositoryRoot, 'tarballs', `aicache-${folder}-${version}.tgz`)
  })
}

/**
 * One project per module system, as an app is one or the other: in one
 * program the ESM and the CommonJS declarations of @aicache/fastify would
 * both add `aiCache` to Fastify's instance type, with two `AiCache` types.
 */
function tsconfig(file: 'app.mts' | 'app.cts') {
  return {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      // The point of the exercise: every declaration file the packages ship is checked.
      skipLibCheck: false,
      types: ['node'],
      outDir: 'dist',
      rootDir: '.',
    },
    files: [file],
  }
}

function tsc(directory: string, project: string, extra: string[], signal: AbortSignal): Promise<{ code: number; output: string }> {
  const compiler = join(directory, 'node_modules/typescript/bin/tsc')
  return run(process.execPath, [compiler, '-p', project, ...extra], { cwd: directory, env: outsideEnvironment(), signal }).then(
    ({ stdout, stderr }) => ({ code: 0, output: stdout + stderr }),
    (error: { code?: number; stdout?: string; stderr?: string }) => ({ code: error.code ?? 1, output: `${error.stdout ?? ''}${error.stderr ?? ''}` }),
  )
}

/** The consumer app, installed and compiled. */
export interface ConsumerApp {
  directory: string
}

/**
 * Creates a consumer app in `directory` (outside the workspace), installs
 * the tarballs and the frameworks from the registry with one `npm install`,
 * and compiles the app as ESM (app.mts) and CommonJS (app.cts) without
 * type-checking it ({@link typeCheck} does that, as a test of its own).
 * `signal` stops npm and tsc when the test run ends first.
 */
export async function createConsumerApp(directory: string, tarballs: readonly string[], signal: AbortSignal): Promise<ConsumerApp> {
  mkdirSync(directory, { recursive: true })
  writeFileSync(join(directory, 'package.json'), JSON.stringify({ name: 'aicache-consumer', private: true }, null, 2))
  writeFileSync(join(directory, 'tsconfig.esm.json'), JSON.stringify(tsconfig('app.mts'), null, 2))
  writeFileSync(join(directory, 'tsconfig.cjs.json'), JSON.stringify(tsconfig('app.cts'), null, 2))
  const source = fileURLToPath(new URL('../app/consumer-app.ts', import.meta.url))
  copyFileSync(source, join(directory, 'app.mts'))
  copyFileSync(source, join(directory, 'app.cts'))
  // Shallow: only the app's own dependencies (and peers) at the top of
  // node_modules, each one's dependencies beneath it. A package that imports
  // something it does not declare then fails here as it would under pnpm.
  // It also keeps express 5's content-disposition 2 (which has its own types)
  // away from @types/koa, which expects content-disposition 0.5's: with both
  // frameworks hoisted into one app, skipLibCheck: false fails on that
  // third-party clash, whatever aicache ships.
  const install = ['install', '--install-strategy=shallow', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline']
  await run('npm', [...install, ...tarballs, ...registryPackages()], { cwd: directory, env: outsideEnvironment(), maxBuffer: 16 * 1024 * 1024, signal })
  for (const project of ['tsconfig.esm.json', 'tsconfig.cjs.json']) {
    const emitted = await tsc(directory, project, ['--noCheck'], signal)
    if (emitted.code !== 0) throw new Error(`tsc --noCheck -p ${project} failed:\n${emitted.output}`)
  }
  return { directory }
}

/** Type-checks the ESM and the CommonJS app (skipLibCheck: false); exit code and output of both. */
export async function typeCheck(app: ConsumerApp, signal: AbortSignal): Promise<{ code: number; output: string }> {
  const [esm, commonJs] = await Promise.all([
    tsc(app.directory, 'tsconfig.esm.json', ['--noEmit'], signal),
    tsc(app.directory, 'tsconfig.cjs.json', ['--noEmit'], signal),
  ])
  return { code: Math.max(esm.code, commonJs.code), output: esm.output + commonJs.output }
}

/** Runs a compiled app against `upstreamUrl` and returns what it printed. */
export async function runApp(app: ConsumerApp, file: 'dist/app.mjs' | 'dist/app.cjs', upstreamUrl: string): Promise<string> {
  const { stdout } = await run(process.execPath, [file, upstreamUrl], { cwd: app.directory, env: outsideEnvironment(), timeout: 90_000 })
  return stdout
}
