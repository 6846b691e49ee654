// OpenAPI source of the operator and discovery endpoints (src/http/health.ts, server-info.ts, the document
// itself) and of the web chat page (src/http/static.ts).
import { object, type JsonSchema, type PathSpecs } from './spec.js'

const count = { type: 'integer', minimum: 0 }
const positive = { type: 'integer', minimum: 1 }
const url = (schemes: string, description: string): JsonSchema => object({ url: { type: 'string', pattern: `^(${schemes})://`, description } })

const serverInfo = object({
  server: { const: 'implus' },
  versions: object({ server: { type: 'string', description: "the server's release" }, protocol: { type: 'integer', minimum: 1, description: "the wire contract's version" } }),
  tls: { type: 'boolean', description: 'this server terminates TLS itself (https, wss, TLS on TCP)' },
  websocket: url('ws|wss', 'the WebSocket endpoint, `…/websocket`'),
  tcp: url('tcp|tls', '`tls://` when TCP is wrapped in TLS'),
  udp: object({ url: { type: 'string', pattern: '^udp://', description: 'never encrypted' }, maxDatagramBytes: positive }),
  limits: object({
    maxFrameBytes: positive,
    maxContentBytes: positive,
    maxHttpBodyBytes: positive,
    rateLimitPerSecond: { ...positive, description: 'frames per second per connection, sustained' },
    rateBurst: { ...positive, description: 'frames a connection may send at once (its token bucket)' },
    httpRateLimitPerSecond: { ...positive, description: 'authenticated requests per second per user' },
    maxDevices: { ...positive, description: 'connections per user' },
    loginTimeoutMs: positive,
    idleTimeoutMs: positive,
    heartbeatIntervalMs: { ...positive, description: 'how often a client sends 2003' },
    tokenTtlSeconds: positive,
    recallWindowMs: count,
    maxUploadBytes: { ...positive, description: 'largest file POST /api/files takes' },
    uploadQuotaBytes: { ...count, description: 'bytes a user may upload in any 24 hours; 0: no quota' }
  })
})

const text = (description: string, statuses: number[] = [200]) => ({ statuses, contentType: 'text/plain', description, schema: { type: 'string' } })
const headers = (description: string, statuses: number[] = [200]) => ({ statuses, contentType: '', description })
const page = { statuses: [200], contentType: 'text/html', description: 'the web chat page', schema: { type: 'string' } }

export const operationPaths: PathSpecs = {
  '/healthz': {
    get: { operationId: 'healthz', summary: 'Liveness: the process answers', auth: 'none', raw: text('`ok`') },
    head: { operationId: 'healthzHead', summary: 'Liveness for probes that use HEAD: the GET answer without its body', auth: 'none', raw: headers('the status only') }
  },
  '/readyz': {
    get: { operationId: 'readyz', summary: 'Readiness: 200 `ready`, 503 `starting` or `draining`', auth: 'none', raw: text('the phase', [200, 503]) },
    head: { operationId: 'readyzHead', summary: 'Readiness for probes that use HEAD: the GET answer without its body', auth: 'none', raw: headers('the status only', [200, 503]) }
  },
  '/metrics': {
    get: { operationId: 'metrics', summary: 'Prometheus text exposition format 0.0.4', auth: 'none', raw: text('metrics (README, "metrics")') }
  },
  '/api/server-info': {
    get: {
      operationId: 'serverInfo',
      summary: 'Where to connect (WebSocket, TCP, UDP), within which limits, and versions',
      description: 'Addresses are the IMPLUS_PUBLIC_* settings, else the host this request was sent to with the ports the server listens on. Clients ask here instead of guessing ports.',
      auth: 'none',
      data: serverInfo
    }
  },
  '/openapi.json': {
    get: {
      operationId: 'openApi',
      summary: 'This document',
      auth: 'none',
      raw: { statuses: [200], contentType: 'application/json', description: 'OpenAPI 3.1', schema: { type: 'object' } }
    }
  },
  '/': { get: { operationId: 'webPage', summary: 'The web chat page', auth: 'none', raw: page } },
  '/app': { get: { operationId: 'webPageApp', summary: 'The web chat page (alias)', auth: 'none', raw: page } },
  '/app.js': {
    get: { operationId: 'webPageScript', summary: "The web chat page's script", auth: 'none', raw: { statuses: [200], contentType: 'text/javascript', description: 'ES module', schema: { type: 'string' } } }
  },
  '/favicon.ico': {
    get: { operationId: 'favicon', summary: 'No icon (204), so browsers stop asking', auth: 'none', raw: { statuses: [204], contentType: '', description: 'nothing' } }
  }
}
