import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Sql } from '../db/connect.js'
import type { Logger } from '../log.js'
import type { Metrics, Series } from '../metrics.js'
import { AppError, Status, badRequest, tooLarge, unavailable } from '../errors.js'
import type { FileInfo } from '@implus/client/wire'
import type { UploadBody } from '../http/upload-body.js'
import { Spool } from './spool.js'
import { THUMBNAIL_TYPE, imageFacts, makeThumbnail, sniffType } from './inspect.js'
import { deleteRows, insertUpload, quotaExceeded, toFileInfo, uploadedToday, type FileRow } from './files.js'
import { fileNameProblem } from './names.js'
import type { BlobStore } from './store.js'

export interface UploadOptions {
  readonly maxUploadBytes: number
  /** Bytes per user per 24 hours; 0 = no quota. */
  readonly quotaBytes: number
  readonly maxImagePixels: number
}

// Bounds on what uploads in progress may hold (temporary files, sockets, image decoders).
const UPLOADS_PER_USER = 4
const UPLOADS_PER_HOST = 64
const IMAGE_JOBS = 2

/** The client went away mid-upload: nobody to answer, nothing to keep. */
class UploadAborted extends AppError {
  constructor (readonly received: number) {
    super(Status.BAD_REQUEST, 'upload aborted by the client')
  }
}

/**
 * Uploads (POST /api/files): the body is spooled to a temporary file while
 * its SHA-256 is computed, its type sniffed from the bytes, an image measured
 * and thumbnailed, the rows recorded within the uploader's quota, and only
 * then the objects stored. Every refusal and every failure removes what was
 * written; a crash in between leaves rows the sweep removes (never a stored
 * object nobody knows of).
 */
export class Uploads {
  private readonly perUser = new Map<string, number>()
  private inProgress = 0
  private imageSlots = IMAGE_JOBS
  private readonly imageQueue: (() => void)[] = []
  private readonly uploadedBytes: Series
  private readonly storedBytes: Series
  private readonly storedFiles: Series
  private readonly results = new Map<string, Series>()

  constructor (
    private readonly sql: Sql,
    private readonly store: BlobStore,
    private readonly spoolDir: string,
    private readonly options: UploadOptions,
    private readonly metrics: Metrics,
    private readonly log: Logger
  ) {
    this.uploadedBytes = metrics.counter('implus_media_upload_bytes_total', 'Bytes of files uploaded and stored (thumbnails not counted).')
    this.storedBytes = metrics.gauge('implus_media_stored_bytes', 'Bytes of all stored files, thumbnails included (recounted by each sweep).')
    this.storedFiles = metrics.gauge('implus_media_stored_files', 'Stored files, thumbnails included (recounted by each sweep).')
  }

  /** The largest upload accepted (IMPLUS_MAX_UPLOAD_BYTES). */
  get maxUploadBytes (): number {
    return this.options.maxUploadBytes
  }

  /** Removes temporary files a crashed process left behind. */
  async prepare (): Promise<void> {
    await mkdir(this.spoolDir, { recursive: true })
    for (const file of await readdir(this.spoolDir)) await rm(join(this.spoolDir, file), { force: true })
  }

  /** Refusals that need no reading of the body: the name, the declared size, uploads in progress. */
  private admit (ownerId: string, name: string, body: UploadBody): void {
    const problem = fileNameProblem(name)
    if (problem !== null) throw badRequest(`name ${problem}`)
    const { maxUploadBytes } = this.options
    if (body.declaredLength !== null && body.declaredLength > maxUploadBytes) throw tooLarge(`upload of ${body.declaredLength} bytes is over ${maxUploadBytes} bytes (IMPLUS_MAX_UPLOAD_BYTES)`)
    if (body.declaredLength === 0) throw badRequest('the upload is empty')
    if ((this.perUser.get(ownerId) ?? 0) >= UPLOADS_PER_USER) throw new AppError(Status.RATE_LIMITED, `at most ${UPLOADS_PER_USER} uploads at a time per user`)
    if (this.inProgress >= UPLOADS_PER_HOST) throw unavailable('too many uploads in progress on this host, retry later')
  }

  async receive (ownerId: string, name: string, body: UploadBody): Promise<FileInfo> {
    try {
      this.admit(ownerId, name, body)
    } catch (err) {
      this.count(outcome(err))
      throw err
    }
    const { maxUploadBytes, quotaBytes, maxImagePixels } = this.options
    this.perUser.set(ownerId, (this.perUser.get(ownerId) ?? 0) + 1)
    this.inProgress++
    const spoolPath = join(this.spoolDir, randomBytes(12).toString('hex'))
    const thumbnailPath = `${spoolPath}.thumb`
    try {
      // A body that cannot fit the quota is refused before it is read.
      if (quotaBytes > 0 && body.declaredLength !== null) {
        const used = await uploadedToday(this.sql, ownerId)
        if (used + body.declaredLength > quotaBytes) throw quotaExceeded(used, quotaBytes)
      }
      const spool = new Spool(spoolPath, body, maxUploadBytes)
      body.onAbort(() => spool.abort(new UploadAborted(spool.received)))
      const spooled = await spool.done
      if (spooled.size === 0) throw badRequest('the upload is empty')
      const mimeType = await sniffType(spooled.path)
      const { image, thumbnail } = await this.measure(spooled.path, mimeType, thumbnailPath, maxImagePixels)
      if (body.aborted) throw new UploadAborted(spooled.size)
      const fileId = newFileId()
      const thumbnailId = thumbnail === null ? null : newFileId()
      const rows: FileRow[] = [{
        fileId,
        ownerId,
        parentId: null,
        name,
        size: spooled.size,
        mimeType,
        sha256: spooled.sha256,
        width: image?.width ?? null,
        height: image?.height ?? null,
        thumbnailId,
        storageKey: fileId
      }]
      if (thumbnail !== null) {
        rows.push({
          fileId: thumbnailId!,
          ownerId,
          parentId: fileId,
          name: 'thumbnail.webp',
          size: thumbnail.size,
          mimeType: THUMBNAIL_TYPE,
          sha256: thumbnail.sha256,
          width: thumbnail.width,
          height: thumbnail.height,
          thumbnailId: null,
          storageKey: thumbnailId!
        })
      }
      const created = await insertUpload(this.sql, rows, quotaBytes)
      try {
        await this.store.putFile(fileId, spooled.path, spooled.size, mimeType)
        if (thumbnail !== null) await this.store.putFile(thumbnailId!, thumbnailPath, thumbnail.size, THUMBNAIL_TYPE)
      } catch (err) {
        this.log.error({ err, store: this.store.kind, fileId }, 'file storage failed; the upload was refused')
        await deleteRows(this.sql, rows.map(r => r.fileId)).catch(() => {})
        await this.store.delete(rows.map(r => r.storageKey)).catch(() => {})
        throw unavailable('file storage unavailable, retry later')
      }
      this.count('stored')
      this.uploadedBytes.value += spooled.size
      for (const r of rows) this.storedBytes.value += r.size
      this.storedFiles.value += rows.length
      return toFileInfo(rows[0]!, created)
    } catch (err) {
      if (err instanceof UploadAborted) {
        this.count('aborted')
        this.log.info({ userId: ownerId, received: err.received }, 'upload aborted by the client; nothing kept')
      } else {
        this.count(outcome(err))
      }
      throw err
    } finally {
      await Promise.all([rm(spoolPath, { force: true }), rm(thumbnailPath, { force: true })])
      this.inProgress--
      const left = this.perUser.get(ownerId)! - 1
      if (left === 0) this.perUser.delete(ownerId)
      else this.perUser.set(ownerId, left)
    }
  }

  /** An image's facts and thumbnail, a few at a time: decoding is the CPU-heavy part of an upload. */
  private async measure (path: string, mimeType: string, thumbnailPath: string, maxPixels: number) {
    if (this.imageSlots === 0) await new Promise<void>(resolve => this.imageQueue.push(resolve))
    else this.imageSlots--
    try {
      const image = await imageFacts(path, mimeType, maxPixels)
      if (image === null) return { image: null, thumbnail: null }
      const made = await makeThumbnail(path, thumbnailPath, maxPixels)
      return { image, thumbnail: { ...made, sha256: await sha256File(thumbnailPath) } }
    } finally {
      const next = this.imageQueue.shift()
      if (next !== undefined) next()
      else this.imageSlots++
    }
  }

  private count (result: string): void {
    let series = this.results.get(result)
    if (series === undefined) {
      series = this.metrics.counter('implus_media_uploads_total', 'Uploads by outcome: stored, refused (a 4xx), aborted (client gone), failed (a 5xx: storage, busy, a fault).', { result })
      this.results.set(result, series)
    }
    series.value++
  }
}

/** How a failed upload is counted: refused when the client was told what to change (a 4xx), else failed. */
function outcome (err: unknown): 'refused' | 'failed' {
  return err instanceof AppError && err.status < 500 ? 'refused' : 'failed'
}

/** A random positive 63-bit id as a decimal string: file ids cannot be guessed from one another. */
export function newFileId (): string {
  const n = randomBytes(8).readBigUInt64BE() >> 1n
  return (n === 0n ? 1n : n).toString()
}

async function sha256File (path: string): Promise<string> {
  // Thumbnails are small (a 320-pixel WebP): read whole.
  return createHash('sha256').update(await readFile(path)).digest('hex')
}
