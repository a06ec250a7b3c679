import { AiCacheError } from '../errors.js'
import { knownKeysOption } from '../option-checks.js'

/** One sentinel of a Redis Sentinel deployment. */
export interface RedisSentinel {
  host: string
  port: number
}

/**
 * TLS of the connections to Redis. PEM text or its bytes, as Node's
 * `tls.connect` takes them.
 *
 * @example
 * ```ts
 * { ca: readFileSync('/etc/redis/ca.crt'), cert: readFileSync('client.crt'), key: readFileSync('client.key') }
 * ```
 */
export interface RedisTlsOptions {
  /** The certificate authority (or authorities) that signed the server's certificate; by default Node's bundled roots. */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>
  /** The client certificate, for a server started with `tls-auth-clients yes`. */
  cert?: string | Buffer
  /** The client certificate's private key. */
  key?: string | Buffer
  /** The name the server's certificate must carry, when it differs from the host connected to. */
  servername?: string
}

function invalid(param: string, expected: string): AiCacheError {
  return new AiCacheError('invalid_option', `Invalid '${param}': expected ${expected}`, { param })
}

function pem(value: unknown): boolean {
  return typeof value === 'string' || Buffer.isBuffer(value)
}

/** The `sentinels` option: a non-empty list of `{ host, port }`. */
export function sentinelsOption(value: unknown, param: string): readonly RedisSentinel[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.length === 0) throw invalid(param, 'a non-empty list of { host, port }')
  return Object.freeze(
    value.map((sentinel: unknown, index) => {
      const at = `${param}[${index}]`
      if (sentinel === null || typeof sentinel !== 'object') throw invalid(at, 'an object { host, port }')
      knownKeysOption(at, sentinel, ['host', 'port'])
      const { host, port } = sentinel as Record<string, unknown>
      if (typeof host !== 'string' || host === '') throw invalid(`${at}.host`, 'a host name or address')
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) {
        throw invalid(`${at}.port`, 'a port number (1 to 65535)')
      }
      return Object.freeze({ host, port })
    }),
  )
}

/** The `tls` option: known keys only, PEM strings or buffers. */
export function tlsOption(value: unknown, param: string): Readonly<RedisTlsOptions> | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(param, 'an object { ca, cert, key, servername }')
  knownKeysOption(param, value, ['ca', 'cert', 'key', 'servername'])
  const tls = value as Record<string, unknown>
  const ca = tls['ca']
  if (ca !== undefined && !pem(ca) && !(Array.isArray(ca) && ca.every(pem))) {
    throw invalid(`${param}.ca`, 'PEM text or bytes, or a list of them')
  }
  for (const field of ['cert', 'key'] as const) {
    if (tls[field] !== undefined && !pem(tls[field])) throw invalid(`${param}.${field}`, 'PEM text or bytes')
  }
  if ((tls['cert'] === undefined) !== (tls['key'] === undefined)) throw invalid(`${param}.key`, "a client 'cert' and its 'key' together")
  if (tls['servername'] !== undefined && typeof tls['servername'] !== 'string') throw invalid(`${param}.servername`, 'a host name')
  return Object.freeze({ ...(value as RedisTlsOptions) })
}
