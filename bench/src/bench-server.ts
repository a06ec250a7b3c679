/** Starting the benchmark servers of `src/servers/`, each in its own process. */
import { fileURLToPath } from 'node:url'
import { startProcess, type RunningProcess } from './process.js'
import { UPSTREAM_URL_VARIABLE } from './servers/environment.js'

/** Names of the scripts in `src/servers/` that serve HTTP. */
export type BenchServerName = 'bare-express' | 'aicache-express' | 'lru-middleware' | 'bare-node'

/** A running benchmark server. */
export interface BenchServer {
  readonly process: RunningProcess
  /** 'http://127.0.0.1:PORT'. */
  readonly origin: string
}

/** Starts `dist/servers/<name>.js` with the fake upstream's URL and waits for `listening <port>`. */
export async function startBenchServer(name: BenchServerName, upstreamUrl: string): Promise<BenchServer> {
  const running = await startProcess({
    name,
    scriptPath: fileURLToPath(new URL(`./servers/${name}.js`, import.meta.url)),
    environment: { [UPSTREAM_URL_VARIABLE]: upstreamUrl },
    readyPattern: /^listening (\d+)$/,
  })
  return { process: running, origin: `http://127.0.0.1:${running.readyValue}` }
}
