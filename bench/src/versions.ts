/** Versions of the packages measured, for the header of a run. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

// Direct dependencies of the bench, read from its own node_modules (some packages do not export package.json).
const PACKAGES = [
  '@aicache/core',
  'express',
  'koa',
  'fastify',
  '@opentelemetry/sdk-node',
  'autocannon',
  'ioredis',
  'apicache',
  'lru-cache',
  '@portkey-ai/gateway',
] as const

/** The installed version of a package the bench depends on, '?' when unknown. */
export function versionOf(name: string): string {
  try {
    const path = new URL(`../node_modules/${name}/package.json`, import.meta.url)
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? '?'
  } catch {
    return '?'
  }
}

/** The redis-server the Redis scenarios start, e.g. '7.0.15'. */
function redisServerVersion(): string {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? '?'
  } catch {
    return 'not installed'
  }
}

/** E.g. 'packages: @aicache/core 0.1.0, express 5.3.0, ...; redis-server 7.0.15'. */
export function versionsLine(): string {
  return `packages: ${PACKAGES.map((name) => `${name} ${versionOf(name)}`).join(', ')}; redis-server ${redisServerVersion()}`
}
