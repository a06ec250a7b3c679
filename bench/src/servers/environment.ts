/** Name of the variable through which the runner tells a server where the fake upstream is. */
export const UPSTREAM_URL_VARIABLE = 'FAKE_UPSTREAM_URL'

/** The fake upstream's base URL ('http://127.0.0.1:PORT/v1'), failing loudly when the runner did not pass it. */
export function upstreamUrl(): string {
  const url = process.env[UPSTREAM_URL_VARIABLE]
  if (!url) throw new Error(`${UPSTREAM_URL_VARIABLE} is not set; benchmark servers are started by the bench runner`)
  return url
}
