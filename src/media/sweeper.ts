import type { Sql } from '../db/connect.js'
import type { Logger } from '../log.js'
import type { Metrics, Series } from '../metrics.js'
import type { BlobStore } from './store.js'

// Claimed rows whose sweep did not finish (its host died) are taken over after this long.
const STALE_CLAIM_SECONDS = 3600
const BATCH = 500
const MAX_INTERVAL_SECONDS = 3600

/**
 * Deletes uploads that no message refers to once they are older than the
 * retention (a day by default), with their thumbnails. Every host sweeps;
 * it is safe across hosts because rows are claimed first (`deleting_time`,
 * FOR UPDATE SKIP LOCKED: each row goes to one sweep), then their objects
 * deleted, then the rows. A host that dies in between leaves claimed rows
 * that the next sweep takes over after an hour; claimed files are gone for
 * downloads and sends at once. A file checked by a send within the retention
 * is kept (see shards/media-files.ts).
 */
export class Sweeper {
  private timer: NodeJS.Timeout | null = null
  private running: Promise<unknown> = Promise.resolve()
  private readonly storedBytes: Series
  private readonly storedFiles: Series
  private readonly deletedFiles: Series

  constructor (
    private readonly sql: Sql,
    private readonly store: BlobStore,
    private readonly retentionSeconds: number,
    metrics: Metrics,
    private readonly log: Logger
  ) {
    this.storedBytes = metrics.gauge('implus_media_stored_bytes', 'Bytes of all stored files, thumbnails included (recounted by each sweep).')
    this.storedFiles = metrics.gauge('implus_media_stored_files', 'Stored files, thumbnails included (recounted by each sweep).')
    this.deletedFiles = metrics.counter('implus_media_swept_files_total', 'Unsent uploads and their thumbnails deleted by this host\'s sweeps.')
  }

  /** Sweeps now and then every quarter of the retention (at most hourly). */
  start (): void {
    const seconds = Math.min(MAX_INTERVAL_SECONDS, Math.max(1, Math.floor(this.retentionSeconds / 4)))
    const tick = (): void => {
      this.running = this.sweep().catch(err => this.log.error({ err }, 'sweep of unsent uploads failed; retried at the next one'))
    }
    tick()
    this.timer = setInterval(tick, seconds * 1000)
    this.timer.unref()
  }

  async stop (): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    await this.running
  }

  /** One sweep: deletes up to a batch of expired uploads (and their thumbnails); returns how many files went. */
  async sweep (): Promise<number> {
    let deleted = 0
    for (;;) {
      const claimed = await this.claim()
      if (claimed.length === 0) break
      await this.store.delete(claimed.map(c => c.storageKey))
      await this.sql`delete from files where file_id = any(${this.sql.array(claimed.map(c => c.fileId))}::text[]::bigint[])`
      deleted += claimed.length
      this.deletedFiles.value += claimed.length
      const bytes = claimed.reduce((sum, c) => sum + c.size, 0)
      this.log.info({ files: claimed.length, bytes }, 'unsent uploads deleted')
      if (claimed.length < BATCH) break
    }
    await this.recount()
    return deleted
  }

  /** Marks a batch of expired uploads and their thumbnails as being deleted, for this sweep alone. */
  private async claim (): Promise<{ fileId: string, storageKey: string, size: number }[]> {
    const rows = await this.sql<{ fileId: string, storageKey: string, size: string }[]>`
      with expired as (
        update files f set deleting_time = now()
        where f.file_id in (
          select file_id from files
          where pending and parent_id is null
            and create_time < now() - make_interval(secs => ${this.retentionSeconds})
            and coalesce(checked_time, create_time) < now() - make_interval(secs => ${this.retentionSeconds})
            and (deleting_time is null or deleting_time < now() - make_interval(secs => ${STALE_CLAIM_SECONDS}))
          order by create_time
          limit ${BATCH}
          for update skip locked)
        returning f.file_id, f.storage_key, f.size
      ), thumbnails as (
        update files t set deleting_time = now()
        from expired e where t.parent_id = e.file_id
        returning t.file_id, t.storage_key, t.size
      )
      select file_id as "fileId", storage_key as "storageKey", size from expired
      union all
      select file_id, storage_key, size from thumbnails`
    return rows.map(r => ({ ...r, size: Number(r.size) }))
  }

  private async recount (): Promise<void> {
    const [row] = await this.sql<{ files: string, bytes: string }[]>`
      select count(*) as files, coalesce(sum(size), 0) as bytes from files where deleting_time is null`
    this.storedFiles.value = Number(row!.files)
    this.storedBytes.value = Number(row!.bytes)
  }
}
