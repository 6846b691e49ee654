import type { TemplatedApp } from '../../io/uws.js'
import type { Logger } from '../../log.js'
import type { RouteKey } from '../route-table.js'
import { servedDocument } from './document.js'

/**
 * GET /openapi.json. Call it once every other route is registered: the document is checked against
 * them here, and a route missing from either side is logged as an error (the suite fails on it).
 */
export function openApiRoute (app: TemplatedApp, routes: readonly RouteKey[], log: Logger): void {
  app.get('/openapi.json', res => {
    res.cork(() => {
      res.writeStatus('200 OK')
        .writeHeader('content-type', 'application/json; charset=utf-8')
        .writeHeader('access-control-allow-origin', '*')
        .end(body)
    })
  })
  const { document, undocumented, unregistered } = servedDocument(routes)
  const body = JSON.stringify(document)
  const list = (keys: RouteKey[]): string[] => keys.map(k => `${k.method.toUpperCase()} ${k.path}`)
  if (undocumented.length > 0) log.error({ routes: list(undocumented) }, 'HTTP routes missing from the OpenAPI document (src/http/openapi/)')
  if (unregistered.length > 0) log.error({ routes: list(unregistered) }, 'OpenAPI document names routes the server does not have')
}
