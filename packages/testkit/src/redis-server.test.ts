import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { skipWithoutRedis, startRedisCluster, startRedisServer } from './redis-server.js'

const cli = (port: number, ...args: string[]) => execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).trim()

describe.skipIf(skipWithoutRedis())('real Redis for tests', () => {
  it('starts, kills, restarts empty, and stops a server', async () => {
    const redis = await startRedisServer()
    try {
      expect(cli(redis.port, 'set', 'k', 'v')).toBe('OK')
      await redis.kill()
      expect(() => cli(redis.port, 'ping')).toThrow()
      await redis.restart()
      expect(cli(redis.port, 'get', 'k')).toBe('')
    } finally {
      await redis.stop()
    }
  })

  it('starts a three-master cluster that serves every slot', async () => {
    const cluster = await startRedisCluster()
    try {
      expect(cluster.nodes).toHaveLength(3)
      expect(cli(cluster.nodes[0]!.port, 'cluster', 'info')).toContain('cluster_known_nodes:3')
    } finally {
      await cluster.stop()
    }
  })
})
