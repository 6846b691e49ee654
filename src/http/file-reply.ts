import type { Readable } from 'node:stream'
import type { HttpResponse } from '../io/uws.js'
import type { Series } from '../metrics.js'
import { reasonPhrase, type StatusCode } from '../errors.js'

/** A handler's answer that is a file's bytes, not a JSON envelope. */
export class FileReply {
  constructor (
    readonly status: StatusCode | 206 | 304 | 416,
    readonly headers: ReadonlyArray<readonly [string, string]>,
    /** Bytes of the body: the Content-Length, also of a HEAD. */
    readonly length: number,
    /** Opens the body; null for a reply without one (304, 416). */
    readonly open: (() => Promise<Readable>) | null
  ) {}
}

const PHRASES: Record<number, string> = { 206: 'Partial Content', 304: 'Not Modified', 416: 'Range Not Satisfiable' }

export interface Exchange {
  aborted: boolean
  /** Called once if the client goes away. */
  onAbort: (() => void) | null
}

/**
 * Writes a FileReply: headers, then the body streamed with uWS's back-pressure
 * (`tryEnd`, and `onWritable` when the socket is full, pausing the source
 * meanwhile), so a slow reader holds one chunk of memory, not the file.
 * A source that fails or ends early mid-body can only drop the connection.
 */
export async function writeFileReply (res: HttpResponse, exchange: Exchange, reply: FileReply, head: boolean, sentBytes: Series): Promise<void> {
  const body = reply.open === null || head || reply.length === 0 ? null : await reply.open()
  if (exchange.aborted) {
    body?.destroy()
    return
  }
  res.cork(() => {
    res.writeStatus(`${reply.status} ${PHRASES[reply.status] ?? reasonPhrase(reply.status as StatusCode)}`)
    for (const [name, value] of reply.headers) res.writeHeader(name, value)
    if (body !== null) return
    if (reply.status === 304) {
      // No Content-Length: on a 304 it would have to be the whole file's (RFC 9110 8.6), and end() writes 0.
      res.endWithoutBody()
    } else if (head) {
      // The length as a header: uWS's endWithoutBody(length) would leave the response unfinished.
      res.writeHeader('content-length', String(reply.length))
      res.endWithoutBody()
    } else res.end()
  })
  if (body === null) return
  await new Promise<void>(resolve => {
    let finished = false
    const finish = (): void => {
      if (finished) return
      finished = true
      exchange.onAbort = null
      body.destroy()
      resolve()
    }
    exchange.onAbort = finish
    body.on('data', (chunk: Buffer) => {
      if (finished) return
      const offset = res.getWriteOffset()
      let ok = false
      let done = false
      res.cork(() => { [ok, done] = res.tryEnd(chunk, reply.length) })
      sentBytes.value += chunk.length
      if (done) return finish()
      if (ok) return
      body.pause()
      res.onWritable(at => {
        const [retried, completed] = res.tryEnd(chunk.subarray(at - offset), reply.length)
        if (completed) finish()
        else if (retried) body.resume()
        return retried
      })
    })
    const cut = (): void => {
      if (finished) return
      res.close()
      finish()
    }
    body.once('error', cut)
    body.once('end', cut)
  })
}
