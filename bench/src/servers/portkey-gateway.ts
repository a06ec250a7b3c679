/**
 * Portkey's open-source AI gateway as published on npm
 * (`@portkey-ai/gateway`, its Node server `build/start-server.js`), run
 * unchanged but for where it listens: its server binds every interface on a
 * fixed port (8787 unless `--port=`), so this script makes it listen on a
 * free loopback port instead, and prints `listening <port>` like the other
 * benchmark servers (its start-up banner left out). Requests pick the provider with `x-portkey-provider:
 * openai` and the fake upstream with `x-portkey-custom-host`.
 */
import { Server } from 'node:net'
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import { assertEntryScript } from './entry-script.js'

assertEntryScript(import.meta.url)

type Listen = (...args: unknown[]) => Server
const originalListen = Server.prototype.listen as Listen
let patched = true
Server.prototype.listen = function listenOnLoopback(this: Server, ...args: unknown[]): Server {
  if (!patched) return originalListen.apply(this, args)
  patched = false
  const callback = args.find((arg) => typeof arg === 'function') as (() => void) | undefined
  this.once('listening', () => {
    const address = this.address()
    if (address !== null && typeof address === 'object') console.log(`listening ${address.port}`)
  })
  return originalListen.call(this, 0, '127.0.0.1', callback)
} as typeof Server.prototype.listen

// The gateway's start-up banner (a spinner redrawn with carriage returns, its default URL, blank lines) would
// only clutter the runner's output; anything else it prints still goes through.
const BANNER = /Starting AI Gateway|Your AI Gateway is running|http:\/\/localhost:\d+|Ready for connections/
const writeStdout = process.stdout.write.bind(process.stdout) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
  // eslint-disable-next-line no-control-regex -- strips ANSI colour codes
  const plain = text.replace(/\u001b\[[0-9;]*m/g, '')
  if (BANNER.test(plain) || plain.trim() === '') return true
  return writeStdout(chunk, ...rest)
}) as typeof process.stdout.write

const entryPath = createRequire(import.meta.url).resolve('@portkey-ai/gateway/build/start-server.js')
// The gateway's start-up UI and its log page are not wanted: --headless, as its README suggests for servers.
process.argv.push('--headless')
await import(pathToFileURL(entryPath).href)
