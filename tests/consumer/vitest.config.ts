import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 120_000,
    // Packing, a registry install and compiling the consumer app (about 15 s
    // of CPU, and the registry; minutes of wall time when the machine is
    // shared with other test runs).
    hookTimeout: 300_000,
  },
})
