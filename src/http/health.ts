import { endResponse, type HttpResponse, type TemplatedApp } from '../io/uws.js'
import type { Metrics } from '../metrics.js'
import { Status, reasonPhrase, type StatusCode } from '../errors.js'
import { sendEnvelope } from './server.js'

export type Phase = 'starting' | 'ready' | 'draining'

/**
 * Liveness, readiness and metrics, open to load balancers and scrapers without
 * a token, and the answer for every path no route claims: 503 while starting
 * (the API routes are not registered yet), 404 after. Registered first, so a
 * starting host already says it is not ready.
 */
export function healthRoutes (app: TemplatedApp, phase: () => Phase, metrics: Metrics): void {
  // HEAD as well as GET: some load balancers and uptime checkers probe with HEAD.
  for (const head of [false, true]) {
    const route = head ? app.head.bind(app) : app.get.bind(app)
    route('/healthz', res => text(res, Status.OK, 'ok\n', head))
    route('/readyz', res => {
      const now = phase()
      text(res, now === 'ready' ? Status.OK : Status.UNAVAILABLE, `${now}\n`, head)
    })
  }
  app.get('/metrics', res => text(res, Status.OK, metrics.render(), false, 'text/plain; version=0.0.4; charset=utf-8'))
  app.any('/*', (res, req) => {
    const starting = phase() === 'starting'
    const head = req.getMethod() === 'head'
    res.cork(() => sendEnvelope(res, starting ? Status.UNAVAILABLE : Status.NOT_FOUND, starting ? 'starting' : 'no such endpoint', null, { head }))
  })
}

function text (res: HttpResponse, status: StatusCode, body: string, head: boolean, contentType = 'text/plain; charset=utf-8'): void {
  res.writeStatus(`${status} ${reasonPhrase(status)}`).writeHeader('content-type', contentType)
  endResponse(res, body, head)
}
