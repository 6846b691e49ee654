import type { Readable } from 'node:stream'

/**
 * Where file bytes live. Keys are the server's own (never a client's file
 * name), so no key can reach outside the store.
 *
 * Contract, kept by every engine (test/blob-stores.test.ts runs one suite on each):
 * - `putFile` consumes a finished spool file and resolves once the object is durable; it either stores the
 *   whole file under the key or, when it rejects, nothing.
 * - `read` streams bytes `start`..`end` inclusive of a stored object; a missing key rejects with
 *   `MissingObjectError`.
 * - `delete` removes objects; keys already gone are not an error (a sweep may be retried).
 */
export interface BlobStore {
  /** 'disk' or 's3', for logs and metrics. */
  readonly kind: string
  putFile (key: string, spoolPath: string, size: number, contentType: string): Promise<void>
  read (key: string, start: number, end: number): Promise<Readable>
  delete (keys: readonly string[]): Promise<void>
  close (): Promise<void>
}

export class MissingObjectError extends Error {
  override name = 'MissingObjectError'
  constructor (readonly key: string) {
    super(`stored object ${key} is missing`)
  }
}
