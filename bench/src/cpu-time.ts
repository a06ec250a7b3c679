/**
 * CPU time of another process, read from Linux's /proc. On a shared machine
 * a neighbour's burst changes how many requests a server gets through per
 * second of wall-clock time, but hardly how much CPU each one costs: CPU time
 * per request is the steadier measure of efficiency.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

let cachedTicksPerSecond: number | undefined

/** Clock ticks per second of /proc's CPU times (almost always 100). */
function ticksPerSecond(): number {
  if (cachedTicksPerSecond === undefined) {
    cachedTicksPerSecond = 100
    try {
      const reported = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())
      if (Number.isFinite(reported) && reported > 0) cachedTicksPerSecond = reported
    } catch {
      // No getconf: keep Linux's usual value.
    }
  }
  return cachedTicksPerSecond
}

/** User plus system CPU seconds used so far by `pid`, or undefined where /proc is not available. */
export function processCpuSeconds(pid: number): number | undefined {
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // The command name (field 2) may contain spaces and parentheses; fields after its closing one are plain.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const ticks = Number(fields[11]) + Number(fields[12])
  return Number.isFinite(ticks) ? ticks / ticksPerSecond() : undefined
}

/** Runs a load and adds the CPU seconds process `pid` spent meanwhile, when /proc can tell. */
export async function withServerCpu<Result extends { serverCpuSeconds?: number }>(pid: number, run: () => Promise<Result>): Promise<Result> {
  const cpuBeforeSeconds = processCpuSeconds(pid)
  const result = await run()
  const cpuAfterSeconds = processCpuSeconds(pid)
  if (cpuBeforeSeconds === undefined || cpuAfterSeconds === undefined) return result
  return { ...result, serverCpuSeconds: cpuAfterSeconds - cpuBeforeSeconds }
}
