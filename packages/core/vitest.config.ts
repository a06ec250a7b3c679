import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    // Hooks start Redis servers and a 3-node cluster: slower than a test on a busy 2-core machine.
    hookTimeout: 30_000,
  },
})
