/** Starting the benchmark servers of `src/servers/` and the standalone gateway, each in its own process. */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startProcess, type RunningProcess } from './process.js'
import { UPSTREAM_URL_VARIABLE } from './servers/environment.js'

/** Names of the scripts in `src/servers/` that serve HTTP. */
export type BenchServerName =
  | 'bare-express'
  | 'aicache-express'
  | 'lru-middleware'
  | 'bare-node'
  | 'bare-proxy'
  | 'bare-koa'
  | 'aicache-koa'
  | 'bare-fastify'
  | 'aicache-fastify'
  | 'bare-replay'
  | 'aicache-express-otel'
  | 'aicache-express-options'
  | 'ioredis-express'
  | 'apicache-express'
  | 'portkey-gateway'

/** What `bare-proxy` is, for the method text of every scenario that measures it. */
export const BARE_PROXY_METHOD =
  'bare-proxy is node:http alone, some thirty lines that forward the body and pipe the answer back on a keep-alive agent, parsing and recording nothing'

/** A running benchmark server. */
export interface BenchServer {
  readonly process: RunningProcess
  /** 'http://127.0.0.1:PORT'. */
  readonly origin: string
}

/**
 * Starts `dist/servers/<name>.js` with the fake upstream's URL (and any
 * further `environment`) and waits for `listening <port>`. `label` names the
 * process in messages where one script runs with several configurations.
 */
export async function startBenchServer(
  name: BenchServerName,
  upstreamUrl: string,
  environment: Readonly<Record<string, string>> = {},
  label: string = name,
): Promise<BenchServer> {
  const running = await startProcess({
    name: label,
    scriptPath: fileURLToPath(new URL(`./servers/${name}.js`, import.meta.url)),
    environment: { ...environment, [UPSTREAM_URL_VARIABLE]: upstreamUrl },
    readyPattern: /^listening (\d+)$/,
  })
  return { process: running, origin: `http://127.0.0.1:${running.readyValue}` }
}

// The example as users run it: `node examples/gateway/dist/main.js`, built by `pnpm bench` (bench/turbo.json).
const GATEWAY_MAIN_PATH = fileURLToPath(new URL('../../examples/gateway/dist/main.js', import.meta.url))

/** Starts the standalone gateway of `examples/gateway` in front of `upstreamUrl`, on a free port; `environment` adds to its variables. */
export async function startGateway(upstreamUrl: string, environment: Readonly<Record<string, string>> = {}): Promise<BenchServer> {
  if (!existsSync(GATEWAY_MAIN_PATH)) {
    throw new Error(`${GATEWAY_MAIN_PATH} is missing: run the bench with 'pnpm bench', which builds examples/gateway first`)
  }
  const running = await startProcess({
    name: 'gateway',
    scriptPath: GATEWAY_MAIN_PATH,
    // Empty values count as unset: no config file, no admin routes, whatever the runner's environment holds.
    environment: { AICACHE_UPSTREAM_URL: upstreamUrl, HOST: '127.0.0.1', PORT: '0', AICACHE_CONFIG: '', AICACHE_ADMIN_TOKEN: '', ...environment },
    readyPattern: /^aicache gateway listening on http:\/\/127\.0\.0\.1:(\d+) /,
  })
  return { process: running, origin: `http://127.0.0.1:${running.readyValue}` }
}
