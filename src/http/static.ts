// The web chat page (dist/web, built by scripts/build-web.mjs): GET / and /app (index.html) and /app.js.
// Files are read once, at start; the page learns the WebSocket port from a value injected into index.html.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { HttpResponse, TemplatedApp } from '../io/uws.js'

export interface StaticOptions {
  /** The WebSocket port the page connects to (IMPLUS_WS_PORT, as bound). */
  readonly wsPort: number
}

interface Asset {
  readonly status: string
  readonly contentType: string
  readonly body: Buffer
}

const PORT_PLACEHOLDER = '__IMPLUS_WS_PORT__'

function load (dir: string, file: string, contentType: string, transform?: (text: string) => string): Asset {
  try {
    const raw = readFileSync(join(dir, file))
    return { status: '200 OK', contentType, body: transform === undefined ? raw : Buffer.from(transform(raw.toString('utf8'))) }
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
export function staticRoutes (app: TemplatedApp, dir: string, opts: StaticOptions): void {
  if (!Number.isInteger(opts.wsPort) || opts.wsPort < 1 || opts.wsPort > 65535) throw new RangeError(`staticRoutes option wsPort must be a port number, got ${opts.wsPort}`)
  const page = load(dir, 'index.html', 'text/html; charset=utf-8', text => text.split(PORT_PLACEHOLDER).join(String(opts.wsPort)))
  const script = load(dir, 'app.js', 'text/javascript; charset=utf-8')
  app.get('/', res => serve(res, page))
  app.get('/app', res => serve(res, page))
  app.get('/app.js', res => serve(res, script))
  app.get('/favicon.ico', res => { res.cork(() => { res.writeStatus('204 No Content').end() }) })
}
