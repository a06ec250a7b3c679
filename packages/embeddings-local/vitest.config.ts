import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Loading the model takes 0.3-0.7 s on a quiet core and many times that on a busy shared machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
