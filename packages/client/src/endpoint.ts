// Socket addresses as URLs: what GET /api/server-info returns and what a user configures.
//   ws://host[:port]/websocket   wss://host[:port]/websocket   (WebSocket; ports 80 / 443 by default)
//   tcp://host:port              tls://host:port               (4-byte length prefix, plain or over TLS)
//   udp://host:port                                            (one datagram per frame; no TLS)

export type TransportKind = 'ws' | 'tcp' | 'udp'

export interface Endpoint {
  transport: TransportKind
  /** Without IPv6 brackets. */
  host: string
  port: number
  /** wss:// or tls://. */
  tls: boolean
  /** WebSocket only: the URL's path and query, e.g. `/websocket`. */
  path: string
}

const SCHEMES: Record<string, { transport: TransportKind, tls: boolean, defaultPort?: number }> = {
  'ws:': { transport: 'ws', tls: false, defaultPort: 80 },
  'wss:': { transport: 'ws', tls: true, defaultPort: 443 },
  'tcp:': { transport: 'tcp', tls: false },
  'tls:': { transport: 'tcp', tls: true },
  'udp:': { transport: 'udp', tls: false },
}

/** Parses a socket URL; throws a TypeError naming what is wrong. */
export function parseEndpoint (url: string): Endpoint {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new TypeError(`not a socket URL: ${JSON.stringify(url)} (expected ws://, wss://, tcp://, tls:// or udp://)`)
  }
  const scheme = SCHEMES[parsed.protocol]
  if (scheme === undefined) throw new TypeError(`unsupported socket URL scheme ${parsed.protocol} in ${url} (expected ws://, wss://, tcp://, tls:// or udp://)`)
  const port = parsed.port === '' ? scheme.defaultPort : Number(parsed.port)
  if (port === undefined) throw new TypeError(`${url} needs a port`)
  if (parsed.hostname === '') throw new TypeError(`${url} needs a host`)
  return {
    transport: scheme.transport,
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port,
    tls: scheme.tls,
    path: scheme.transport === 'ws' ? parsed.pathname + parsed.search : '',
  }
}

/** The URL of an endpoint, as parseEndpoint reads it back. */
export function endpointUrl (endpoint: Endpoint): string {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host
  const scheme = endpoint.transport === 'ws' ? (endpoint.tls ? 'wss' : 'ws') : endpoint.transport === 'tcp' ? (endpoint.tls ? 'tls' : 'tcp') : 'udp'
  return `${scheme}://${host}:${endpoint.port}${endpoint.path}`
}
