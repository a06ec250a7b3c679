import { defineConfig } from 'tsdown'

export default defineConfig({
  // The worker is an entry of its own: the embedder starts it from the file beside its own.
  entry: ['src/index.ts', 'src/worker.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
