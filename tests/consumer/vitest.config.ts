import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    // Packing, a registry install and two type-checks of the consumer app with
    // skipLibCheck: false (about 45 s of CPU; minutes of wall time when the
    // machine is shared with other test runs).
    hookTimeout: 300_000,
  },
})
