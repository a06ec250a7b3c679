import { execFile, execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const directory = fileURLToPath(new URL('../prometheus/', import.meta.url))

function promtoolInstalled(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    if (process.env['CI']) throw new Error('promtool is not installed, and CI must check the alert rules (apt-get install prometheus)')
    console.warn('promtool is not installed: skipping the alert rule checks (apt-get install prometheus)')
    return false
  }
}

describe.skipIf(!promtoolInstalled())('the Prometheus alert rules', () => {
  it('are valid rules', async () => {
    const { stdout } = await run('promtool', ['check', 'rules', 'alerts.yml'], { cwd: directory })
    expect(stdout).toContain('SUCCESS: 4 rules found')
  })

  it('fire on what they are about, and not before (promtool unit tests)', async () => {
    const { stdout } = await run('promtool', ['test', 'rules', 'alerts.test.yml'], { cwd: directory })
    expect(stdout).toContain('SUCCESS')
  })

  it('are loaded by the Prometheus configuration of docker-compose.yml', async () => {
    const { stdout } = await run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: directory })
    expect(stdout).toMatch(/SUCCESS: 1 rule files found/)
  })
})
