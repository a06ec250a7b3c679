import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts', 'src/conformance.ts', 'src/cli.ts', 'src/redis.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
