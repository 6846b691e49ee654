import type { Sql } from '../db/connect.js'
import { MsgStatus, MsgType } from '../db/schema.js'
import { AppError, Status } from '../errors.js'
import type { FileInfo } from '@implus/client/wire'

/** PostgreSQL's two-key advisory locks are a space of their own: this class holds one lock per uploader. */
const UPLOAD_LOCK_CLASS = 0x17f1

/** A row of `files` as uploads write it. */
export interface FileRow {
  readonly fileId: string
  readonly ownerId: string
  readonly parentId: string | null
  readonly name: string
  readonly size: number
  readonly mimeType: string
  readonly sha256: string
  readonly width: number | null
  readonly height: number | null
  readonly thumbnailId: string | null
  readonly storageKey: string
}

/** What a download needs to know, and whether this user may have it. */
export interface DownloadableFile {
  readonly fileId: string
  readonly name: string
  readonly size: number
  readonly mimeType: string
  readonly sha256: string
  readonly storageKey: string
  readonly allowed: boolean
}

/**
 * Records an upload's rows (the file, and its thumbnail) if the uploader's
 * last 24 hours plus this one stay within the quota (0: no quota). One
 * uploader's inserts take turns on an advisory lock, so two uploads finishing
 * together cannot both slip under the quota.
 */
export async function insertUpload (sql: Sql, rows: readonly FileRow[], quotaBytes: number): Promise<Date> {
  const owner = rows[0]!.ownerId
  const counted = rows.filter(r => r.parentId === null).reduce((sum, r) => sum + r.size, 0)
  return await sql.begin(async tx => {
    if (quotaBytes > 0) {
      await tx`select pg_advisory_xact_lock(${UPLOAD_LOCK_CLASS}, hashtext(${owner}))`
      const used = await uploadedToday(tx as unknown as Sql, owner)
      if (used + counted > quotaBytes) throw quotaExceeded(used, quotaBytes)
    }
    const [row] = await tx<{ time: Date }[]>`
      insert into files (file_id, owner_id, parent_id, name, size, mime_type, sha256, width, height, thumbnail_id, storage_key)
      select * from unnest(
        ${tx.array(rows.map(r => r.fileId))}::text[]::bigint[], ${tx.array(rows.map(r => r.ownerId))}::text[]::bigint[],
        ${tx.array(rows.map(r => r.parentId) as string[])}::text[]::bigint[], ${tx.array(rows.map(r => r.name))}::text[],
        ${tx.array(rows.map(r => r.size))}::text[]::bigint[], ${tx.array(rows.map(r => r.mimeType))}::text[],
        ${tx.array(rows.map(r => r.sha256))}::text[], ${tx.array(rows.map(r => r.width) as number[])}::int4[],
        ${tx.array(rows.map(r => r.height) as number[])}::int4[], ${tx.array(rows.map(r => r.thumbnailId) as string[])}::text[]::bigint[],
        ${tx.array(rows.map(r => r.storageKey))}::text[])
      returning create_time as time`
    return row!.time
  })
}

/** Bytes the user uploaded in the last 24 hours (thumbnails are the server's, not counted). */
export async function uploadedToday (sql: Sql, ownerId: string): Promise<number> {
  const [row] = await sql<{ used: string | null }[]>`
    select sum(size) as used from files
    where owner_id = ${ownerId} and parent_id is null and create_time > now() - interval '24 hours'`
  return Number(row?.used ?? 0)
}

export function quotaExceeded (used: number, quotaBytes: number): AppError {
  return new AppError(Status.RATE_LIMITED, `daily upload quota reached: ${used} of ${quotaBytes} bytes used in the last 24 hours (IMPLUS_UPLOAD_QUOTA_BYTES)`)
}

/** Rows of an upload whose objects could not be stored. */
export async function deleteRows (sql: Sql, fileIds: readonly string[]): Promise<void> {
  await sql`delete from files where file_id = any(${sql.array([...fileIds])}::text[]::bigint[])`
}

/**
 * A file for download by `userId`, null if it does not exist (or is being
 * deleted). Allowed: its uploader, and members of a conversation where a
 * message carrying it was sent and not recalled — both users of a private
 * conversation, current members of a group.
 */
export async function downloadable (sql: Sql, fileId: string, userId: string): Promise<DownloadableFile | null> {
  const [row] = await sql<(Omit<DownloadableFile, 'size'> & { size: string })[]>`
    select f.file_id as "fileId", f.name, f.size, f.mime_type as "mimeType", f.sha256, f.storage_key as "storageKey",
      (f.owner_id = ${userId} or exists (
        select 1 from message_files mf join message m on m.msg_id = mf.msg_id
        where mf.file_id = f.file_id and m.status <> ${MsgStatus.RECALLED} and (
          m.sender_id = ${userId} or m.receiver_id = ${userId} or
          (m.msg_type = ${MsgType.GROUP} and exists (select 1 from group_members g where g.conversation_id = m.conversation_id and g.user_id = ${userId})))
      )) as allowed
    from files f where f.file_id = ${fileId} and f.deleting_time is null`
  return row === undefined ? null : { ...row, size: Number(row.size) }
}

export function toFileInfo (row: FileRow, createTime: Date): FileInfo {
  return {
    fileId: row.fileId,
    name: row.name,
    size: row.size,
    mimeType: row.mimeType,
    sha256: row.sha256,
    width: row.width,
    height: row.height,
    thumbnailId: row.thumbnailId,
    createTime: createTime.toISOString()
  }
}
