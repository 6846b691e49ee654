import { createHash } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tooLarge } from '../errors.js'

/** Where a request body comes from (an HTTP upload over uWS, SSL or not). */
export interface BodySource {
  onData (handler: (chunk: ArrayBuffer, isLast: boolean) => void): unknown
  pause (): void
  resume (): void
}

export interface Spooled {
  readonly path: string
  readonly size: number
  /** Hex SHA-256 of the bytes. */
  readonly sha256: string
}

/**
 * A request body written to a temporary file as it arrives, never whole in
 * memory: each chunk is copied once (uWS reuses its buffer), hashed and
 * queued to the file; while the file lags behind, the socket is paused
 * (back-pressure reaches the client through TCP) and resumed on 'drain'.
 * More than `limit` bytes, or `abort()` (the client went away), rejects and
 * removes the file.
 */
export class Spool {
  readonly done: Promise<Spooled>
  private readonly file
  private readonly hash = createHash('sha256')
  private size = 0
  private failed = false
  private reject!: (err: Error) => void

  constructor (private readonly path: string, source: BodySource, limit: number) {
    this.file = createWriteStream(path, { flags: 'wx', highWaterMark: 256 * 1024 })
    this.done = new Promise<Spooled>((resolve, reject) => {
      this.reject = reject
      this.file.once('error', err => this.fail(err))
      source.onData((chunk, isLast) => {
        if (this.failed) return
        this.size += chunk.byteLength
        if (this.size > limit) {
          this.fail(tooLarge(`upload over ${limit} bytes (IMPLUS_MAX_UPLOAD_BYTES)`))
          return
        }
        if (chunk.byteLength > 0) {
          // uWS neuters the ArrayBuffer when this callback returns: copy it.
          const bytes = Buffer.from(chunk.slice(0))
          this.hash.update(bytes)
          if (!this.file.write(bytes)) {
            source.pause()
            this.file.once('drain', () => source.resume())
          }
        }
        if (isLast) {
          this.file.once('close', () => { if (!this.failed) resolve({ path, size: this.size, sha256: this.hash.digest('hex') }) })
          this.file.end()
        }
      })
    })
    // A rejection nobody awaits yet (the caller awaits `done` later) is not an unhandled one.
    this.done.catch(() => {})
  }

  /** Bytes received so far. */
  get received (): number {
    return this.size
  }

  /** The body will not complete (the client disconnected): stop and remove what was written. */
  abort (reason: Error): void {
    this.fail(reason)
  }

  /** Rejects once the file is closed and removed, so nothing is left behind when the caller hears of it. */
  private fail (err: Error): void {
    if (this.failed) return
    this.failed = true
    const remove = (): void => {
      rm(this.path, { force: true }).then(() => this.reject(err), removeErr => this.reject(removeErr as Error))
    }
    if (this.file.closed) remove()
    else {
      this.file.once('close', remove)
      this.file.destroy()
    }
  }
}
