import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from '@aicache/testkit/redis'

/** One series of an instant query: its labels and its value (`"NaN"`, `"+Inf"` as Prometheus writes them). */
export interface InstantSample {
  metric: Record<string, string>
  value: [timestampSeconds: number, value: string]
}

/** A real `prometheus` process scraping one target, started by a test. */
export interface PrometheusServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** Resolves once the target was scraped successfully `count` times after the call. */
  waitForScrapes(count: number): Promise<void>
  /** `/api/v1/query` at the current time, or at `timeSeconds` (Unix seconds). */
  query(expression: string, timeSeconds?: number): Promise<InstantSample[]>
  /** Stops the process and removes its data. */
  stop(): Promise<void>
}

/** Whether the `prometheus` server binary is installed on this machine. */
export function prometheusInstalled(): boolean {
  try {
    execFileSync('prometheus', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/**
 * For `describe.skipIf(...)`: true when the Prometheus tests cannot run
 * here. Where `CI` is set a missing Prometheus is an error, never a skip.
 */
export function skipWithoutPrometheus(): boolean {
  if (prometheusInstalled()) return false
  if (process.env['CI']) throw new Error('prometheus is not installed, and CI must run the Prometheus tests')
  console.warn('prometheus is not installed: skipping the Prometheus tests (apt-get install prometheus)')
  return true
}

interface TargetsAnswer {
  data: { activeTargets: Array<{ health: string; lastScrape: string; lastError: string }> }
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url)
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status} ${await response.text()}`)
  return (await response.json()) as T
}

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await attempt()
      if (value !== undefined) return value
    } catch (error) {
      lastError = error // not up yet
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`)
    await sleep(100)
  }
}

/**
 * Starts `prometheus` on a free loopback port, scraping `target`
 * (`http://HOST:PORT/metrics`) every `scrapeIntervalSeconds`, with its data in
 * a temporary directory.
 */
export async function startPrometheus(target: string, scrapeIntervalSeconds = 1): Promise<PrometheusServer> {
  const { host, pathname } = new URL(target)
  const directory = mkdtempSync(join(tmpdir(), 'aicache-prometheus-'))
  const configPath = join(directory, 'prometheus.yml')
  writeFileSync(
    configPath,
    [
      'global:',
      `  scrape_interval: ${scrapeIntervalSeconds}s`,
      'scrape_configs:',
      '  - job_name: aicache',
      `    metrics_path: ${pathname}`,
      '    static_configs:',
      `      - targets: ['${host}']`,
      '',
    ].join('\n'),
  )
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child: ChildProcess = spawn(
    'prometheus',
    [`--config.file=${configPath}`, `--storage.tsdb.path=${join(directory, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
    rmSync(directory, { recursive: true, force: true })
  }
  const target0 = async () => (await getJson<TargetsAnswer>(`${url}/api/v1/targets`)).data.activeTargets[0]
  try {
    await until(`prometheus to be ready (${log.trim()})`, 10_000, async () => ((await fetch(`${url}/-/ready`)).ok ? true : undefined))
  } catch (error) {
    await stop()
    throw error
  }
  return {
    url,
    async waitForScrapes(count) {
      // Counted from now: a scrape that started earlier may predate what the caller just did.
      let seen = (await target0().catch(() => undefined))?.lastScrape
      for (let scrape = 0; scrape < count; scrape++) {
        await until(`a scrape of ${target}`, 10_000, async () => {
          const current = await target0()
          if (current?.health !== 'up' || current.lastScrape === seen) {
            if (current?.lastError) throw new Error(current.lastError)
            return undefined
          }
          seen = current.lastScrape
          return true
        })
      }
    },
    async query(expression, timeSeconds) {
      const time = timeSeconds === undefined ? '' : `&time=${timeSeconds}`
      const answer = await getJson<{ data: { result: InstantSample[] } }>(`${url}/api/v1/query?query=${encodeURIComponent(expression)}${time}`)
      return answer.data.result
    },
    stop,
  }
}
