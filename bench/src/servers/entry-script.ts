import { realpathSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/**
 * Throws unless the module at `moduleUrl` is the script node was started
 * with. Servers must run in their own process: measured inside the runner,
 * they would share a CPU and an event loop with the load generator.
 */
export function assertEntryScript(moduleUrl: string): void {
  const entryPath = process.argv[1]
  const modulePath = fileURLToPath(moduleUrl)
  if (entryPath !== undefined && realpathSync(entryPath) === realpathSync(modulePath)) return
  throw new Error(`${modulePath} is a benchmark server: start it with 'node ${modulePath}', do not import it`)
}
