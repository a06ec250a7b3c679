// Entry of the worker thread started by playInWorker(): plays the workload and posts the results back.
import { parentPort, workerData } from 'node:worker_threads'
import { type PlannedRequest, type PlayOptions, playWorkload } from './play.js'

const { baseURL, requests, options } = workerData as { baseURL: string; requests: PlannedRequest[]; options: PlayOptions }
parentPort?.postMessage(await playWorkload(baseURL, requests, options))
