import type { HttpApi } from './server.js'
import type { Metrics } from '../metrics.js'
import { Status } from '../errors.js'

export type Phase = 'starting' | 'ready' | 'draining'

/** Liveness, readiness and metrics: open to load balancers and scrapers without a token. */
export function healthRoutes (api: HttpApi, phase: () => Phase, metrics: Metrics): void {
  api.text('/healthz', () => ({ status: Status.OK, body: 'ok\n' }))
  api.text('/readyz', () => {
    const now = phase()
    return { status: now === 'ready' ? Status.OK : Status.UNAVAILABLE, body: `${now}\n` }
  })
  api.text('/metrics', () => ({ status: Status.OK, body: metrics.render(), contentType: 'text/plain; version=0.0.4; charset=utf-8' }))
}
