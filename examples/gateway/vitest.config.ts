import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    // Hooks start gateway processes and Redis servers: over 10 s while other test files load the machine.
    hookTimeout: 30_000,
  },
})
