// The web chat page (dist/web, built by scripts/build-web.mjs): GET / and /app (index.html) and /app.js.
// Files are read once, at start; the page asks GET /api/server-info where the WebSocket is.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { HttpResponse, TemplatedApp } from '../io/uws.js'

interface Asset {
  readonly status: string
  readonly contentType: string
  readonly body: Buffer
}

function load (dir: string, file: string, contentType: string): Asset {
  try {
    return { status: '200 OK', contentType, body: readFileSync(join(dir, file)) }
  } catch {
    return { status: '404 Not Found', contentType: 'text/plain; charset=utf-8', body: Buffer.from(`${file} is not built: run npm run build\n`) }
  }
}

function serve (res: HttpResponse, asset: Asset): void {
  res.cork(() => {
    res.writeStatus(asset.status)
      .writeHeader('content-type', asset.contentType)
      .writeHeader('cache-control', 'no-cache')
      .writeHeader('x-content-type-options', 'nosniff')
      .end(asset.body)
  })
}

/** Registers the page's routes on the HTTP app; more specific than the catch-all in health.ts, so order does not matter. */
export function staticRoutes (app: TemplatedApp, dir: string): void {
  const page = load(dir, 'index.html', 'text/html; charset=utf-8')
  const script = load(dir, 'app.js', 'text/javascript; charset=utf-8')
  app.get('/', res => serve(res, page))
  app.get('/app', res => serve(res, page))
  app.get('/app.js', res => serve(res, script))
  // endWithoutBody, not end(): a 204 must not carry the Content-Length: 0 that end() writes (RFC 9110 8.6).
  app.get('/favicon.ico', res => { res.cork(() => { res.writeStatus('204 No Content').endWithoutBody() }) })
}
