import { defineConfig } from 'tsdown'

export default defineConfig({
  // One entry per public subpath: `.`, `./adapter`, `./redis` (decision 0035).
  entry: ['src/index.ts', 'src/adapter.ts', 'src/redis.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  // import.meta.url in the CommonJS build too (the token counter resolves gpt-tokenizer with it).
  shims: true,
  target: 'node20',
})
