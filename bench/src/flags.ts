/** Command-line flags of the runner. */
import { parseArgs } from 'node:util'

/** What to run. */
export interface Flags {
  /** Every step briefly, for CI. */
  quick: boolean
  /** Only the scenario of this name. */
  only: string | undefined
}

/** Parses `--quick` and `--only <scenario-name>`; unknown flags throw rather than being silently ignored. */
export function parseFlags(args: readonly string[]): Flags {
  // `pnpm bench -- --quick` can hand the separator on; it carries no meaning here.
  const { values } = parseArgs({
    args: args.filter((arg) => arg !== '--'),
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  })
  return { quick: values.quick ?? false, only: values.only }
}
