// GET /api/server-info: where a client connects and within which limits (docs/protocol.md). The CLI, the
// SDK and the web page ask here instead of guessing ports.
import { PROTOCOL_VERSION, type ServerInfo } from '@implus/client/wire'
import type { Config } from '../config.js'
import { SERVER_VERSION } from '../version.js'
import type { HttpApi } from './server.js'

/** A client heartbeats this often (docs/protocol.md, 2003). */
const HEARTBEAT_INTERVAL_MS = 30_000

export interface ServerInfoOptions {
  readonly config: Config
  readonly tls: boolean
  readonly ports: { readonly ws: number, readonly tcp: number, readonly udp: number }
}

const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/

/** The host part of a Host header (brackets kept for IPv6), or `fallback` for a missing or odd one. */
export function hostOf (header: string, fallback: string): string {
  const match = HOST_HEADER.exec(header)
  return match === null ? fallback : match[1]!
}

/** The host to show for a bound address: itself, or `localhost` for a wildcard (0.0.0.0, ::). */
export function advertisedHost (bound: string): string {
  if (bound === '0.0.0.0' || bound === '::' || bound === '') return 'localhost'
  return bound.includes(':') ? `[${bound}]` : bound
}

export function serverInfoRoute (api: HttpApi, { config, tls, ports }: ServerInfoOptions): void {
  const fallback = advertisedHost(config.host)
  const limits: ServerInfo['limits'] = {
    maxFrameBytes: config.maxFrameBytes,
    maxContentBytes: config.maxContentBytes,
    maxHttpBodyBytes: config.maxHttpBodyBytes,
    rateLimitPerSecond: config.rateLimitPerSecond,
    rateBurst: config.rateBurst,
    httpRateLimitPerSecond: config.httpRateLimitPerSecond,
    maxDevices: config.maxDevices,
    loginTimeoutMs: config.loginTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS,
    tokenTtlSeconds: config.tokenTtlSeconds,
    recallWindowMs: config.recallWindowMs,
    maxUploadBytes: config.maxUploadBytes,
    uploadQuotaBytes: config.uploadQuotaBytes
  }
  api.get('/api/server-info', 'none', ({ host }): ServerInfo => {
    const name = hostOf(host, fallback)
    return {
      server: 'implus',
      versions: { server: SERVER_VERSION, protocol: PROTOCOL_VERSION },
      tls,
      websocket: { url: config.publicWsUrl ?? `${tls ? 'wss' : 'ws'}://${name}:${ports.ws}/websocket` },
      tcp: { url: config.publicTcpUrl ?? `${tls ? 'tls' : 'tcp'}://${name}:${ports.tcp}` },
      udp: { url: config.publicUdpUrl ?? `udp://${name}:${ports.udp}`, maxDatagramBytes: config.maxUdpBytes },
      limits
    }
  })
}
