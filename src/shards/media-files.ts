import type { Sql } from '../db/connect.js'
import type { StoredFile } from '../media/content.js'

/**
 * The files a cycle's media messages name, in one statement per cycle. It
 * also stamps them as checked: the sweep that deletes unsent uploads skips a
 * file checked within the retention, so a file cannot disappear between this
 * check and the commit of the message that refers to it. A file the sweep
 * claimed first is not returned, and its send is refused.
 */
export async function checkFiles (sql: Sql, fileIds: readonly string[]): Promise<Map<string, StoredFile>> {
  if (fileIds.length === 0) return new Map()
  const rows = await sql<{ fileId: string, ownerId: string, name: string, size: string, mimeType: string, width: number | null, height: number | null, thumbnailId: string | null }[]>`
    update files set checked_time = now()
    where file_id = any(${sql.array([...new Set(fileIds)])}::text[]::bigint[]) and deleting_time is null
    returning file_id as "fileId", owner_id as "ownerId", name, size, mime_type as "mimeType", width, height, thumbnail_id as "thumbnailId"`
  return new Map(rows.map(r => [r.fileId, { ...r, size: Number(r.size) }]))
}
