import type { HttpResponse } from '../io/uws.js'
import type { BodySource } from '../media/spool.js'

/**
 * A request body handed to a handler after the request was authenticated.
 * uWS wants the data handler attached before the route callback returns, and
 * delivers what already arrived even when paused at once: those first chunks
 * (one socket read, at most a few hundred KiB) wait here, copied, until the
 * handler attaches its own and resumes the socket.
 */
export class UploadBody implements BodySource {
  /** The client's Content-Length, null when it sent the body chunked. */
  readonly declaredLength: number | null
  private early: { bytes: ArrayBuffer, isLast: boolean }[] = []
  private handler: ((chunk: ArrayBuffer, isLast: boolean) => void) | null = null
  private complete = false
  private consumerPaused = false
  /** The response was answered or aborted: uWS forbids touching it again. */
  private closed = false
  private abortHandler: (() => void) | null = null
  private wasAborted = false

  constructor (private readonly res: HttpResponse, contentLength: string) {
    this.declaredLength = /^\d+$/.test(contentLength) ? Number(contentLength) : null
    res.onData((chunk, isLast) => {
      if (isLast) this.complete = true
      if (this.handler !== null) this.handler(chunk, isLast)
      else this.early.push({ bytes: chunk.slice(0), isLast })
    })
    res.pause()
  }

  /** True once the last byte arrived: a reply before that must close the connection (the rest is unread). */
  get received (): boolean {
    return this.complete
  }

  onData (handler: (chunk: ArrayBuffer, isLast: boolean) => void): void {
    this.handler = handler
    const early = this.early
    this.early = []
    for (const { bytes, isLast } of early) handler(bytes, isLast)
    // The handler may have paused while taking the early chunks (its file lagging already).
    if (!this.consumerPaused && !this.closed) this.res.resume()
  }

  pause (): void {
    this.consumerPaused = true
    if (!this.closed) this.res.pause()
  }

  resume (): void {
    this.consumerPaused = false
    if (this.handler !== null && !this.closed) this.res.resume()
  }

  /**
   * Reads and drops the rest of the body, also after the response was sent (uWS delivers a body's bytes
   * to its data handler until the last), so an early answer (a refusal) can keep the connection: closing
   * a socket with unread bytes makes the kernel reset it, and the client may never see the answer.
   */
  dropRest (): void {
    this.early = []
    this.handler = () => {}
    this.consumerPaused = false
    if (!this.closed) this.res.resume()
  }

  /** The client went away before the answer (a truncated upload, say). */
  get aborted (): boolean {
    return this.wasAborted
  }

  onAbort (handler: () => void): void {
    this.abortHandler = handler
  }

  /**
   * The response is being answered: the socket reads again (left paused, a kept-alive connection would
   * never see its next request), and nothing may pause it any more.
   */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.res.resume()
  }

  /** Called by the HTTP layer when uWS reports the request aborted. */
  abort (): void {
    this.closed = true
    this.wasAborted = true
    this.abortHandler?.()
  }
}
