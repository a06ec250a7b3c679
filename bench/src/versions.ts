/** Versions of the packages measured, for the header of a run. */
import { readFileSync } from 'node:fs'

// Direct dependencies of the bench, read from its own node_modules (some packages do not export package.json).
const PACKAGES = ['@aicache/core', 'express', 'koa', 'fastify', '@opentelemetry/sdk-node', 'autocannon'] as const

function versionOf(name: string): string {
  try {
    const path = new URL(`../node_modules/${name}/package.json`, import.meta.url)
    return (JSON.parse(readFileSync(path, 'utf8')) as { version?: string }).version ?? '?'
  } catch {
    return '?'
  }
}

/** E.g. 'packages: @aicache/core 0.1.0, express 5.3.0, ...'. */
export function versionsLine(): string {
  return `packages: ${PACKAGES.map((name) => `${name} ${versionOf(name)}`).join(', ')}`
}
