import { Worker } from 'node:worker_threads'
import type { PlannedRequest, PlayedRequest, PlayOptions } from './play.js'

/**
 * {@link playWorkload} in a worker thread. Callers of a gateway run on other
 * machines; here they get their own thread, so the client work (the `openai`
 * SDK, parsing streams) does not queue on the gateway's event loop and
 * inflate the latency being measured.
 *
 * @example
 * ```ts
 * const played = await playInWorker('http://127.0.0.1:8787/v1', plan, { concurrency: 16 })
 * ```
 */
export function playInWorker(baseURL: string, requests: readonly PlannedRequest[], options: PlayOptions = {}): Promise<PlayedRequest[]> {
  // Compiled code only: the worker loads the emitted play-worker.js beside this file.
  const worker = new Worker(new URL('./play-worker.js', import.meta.url), { workerData: { baseURL, requests, options } })
  return new Promise((resolve, reject) => {
    worker.once('message', (played: PlayedRequest[]) => {
      resolve(played)
      void worker.terminate()
    })
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`the workload worker exited (code ${code}) before reporting`)))
  })
}
