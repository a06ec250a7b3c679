import { defineConfig } from 'tsdown'

export default defineConfig({
  entry: ['src/index.ts', 'src/conformance.ts', 'src/contracts.ts', 'src/cli.ts', 'src/redis.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // openai 7 is installed under an npm alias (a devDependency, as a peer cannot be an alias): import it, never bundle it.
  deps: { neverBundle: ['openai7'] },
})
