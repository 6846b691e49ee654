// What a person at a terminal sees once the server is up: where to click first, then the rest.
import { SERVER_VERSION } from './version.js'

export interface BannerInfo {
  /** http(s)://host:port of the HTTP server, as a browser reaches it. */
  readonly http: string
  readonly ws: string
  readonly tcp: string
  readonly udp: string
  readonly database: 'embedded' | 'external'
  readonly files: string
  readonly shards: number
  readonly cluster: { readonly nodeId: string, readonly slot: number } | null
}

/** A few lines of plain text; `color` underlines and brightens the URLs (terminals make them clickable). */
export function banner (info: BannerInfo, color: boolean): string {
  const link = (url: string): string => color ? `\x1b[1;4;36m${url}\x1b[0m` : url
  const dim = (text: string): string => color ? `\x1b[2m${text}\x1b[0m` : text
  const title = color ? `\x1b[1mimplus ${SERVER_VERSION}\x1b[0m` : `implus ${SERVER_VERSION}`
  const where = info.cluster === null ? 'single host' : `cluster node ${info.cluster.nodeId} (slot ${info.cluster.slot})`
  return [
    '',
    `  ${title} is ready ${dim(`· ${where} · ${info.database} PostgreSQL · files on ${info.files} · ${info.shards} shard${info.shards === 1 ? '' : 's'}`)}`,
    '',
    `  Web chat    ${link(`${info.http}/`)}`,
    `  HTTP API    ${link(`${info.http}/openapi.json`)} ${dim('(OpenAPI reference)')}`,
    `  Metrics     ${link(`${info.http}/metrics`)}`,
    `  WebSocket   ${info.ws}`,
    `  TCP         ${info.tcp}`,
    `  UDP         ${info.udp}`,
    '',
    `  ${dim('Ctrl-C drains and stops. Logs below.')}`,
    '',
    ''
  ].join('\n')
}
