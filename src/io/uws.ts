import { createRequire } from 'node:module'
import type * as Uws from 'uWebSockets.js'
import type { HttpResponse } from 'uWebSockets.js'

export type { HttpRequest, HttpResponse, TemplatedApp, WebSocket, us_listen_socket as ListenSocket } from 'uWebSockets.js'

const require = createRequire(import.meta.url)

/**
 * Loads uWebSockets.js's native binary by path. The package's own entry point
 * silently falls back to a slow pure-JavaScript server when the binary does
 * not load; we never want that, so a missing binary is an error at start.
 */
function loadNative (): typeof Uws {
  const binary = `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`
  try {
    return require(binary) as typeof Uws
  } catch (err) {
    throw new Error(`the native uWebSockets.js binary (${binary}) does not load on this machine, and implus does not run on the pure-JavaScript fallback: ${(err as Error).message}`)
  }
}

export const uws = loadNative()

/** True when a uWebSockets.js module's `App` is compiled code rather than JavaScript. */
export function isNativeModule (module: { App: unknown }): boolean {
  return typeof module.App === 'function' && Function.prototype.toString.call(module.App).includes('[native code]')
}

/**
 * Ends a response with `body`, or, answering a HEAD request, with the headers alone (the length the body
 * would have). uWS 20.30 writes a body even on HEAD, and its `endWithoutBody` given any argument (even
 * `undefined`) leaves the response unfinished: the next request on that connection is dropped, and in a
 * synchronous handler the process aborts. So the length goes in as a header and it is called bare (a HEAD
 * request has no body left unread, so it never needs `closeConnection`).
 */
export function endResponse (res: HttpResponse, body: string, head: boolean, closeConnection = false): void {
  if (!head) {
    res.end(body, closeConnection)
    return
  }
  res.writeHeader('content-length', String(Buffer.byteLength(body)))
  res.endWithoutBody()
}

/** What the startup log reports and the tests check. */
export function isNativeUws (): boolean {
  return isNativeModule(uws)
}
