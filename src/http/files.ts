import type { HttpApi, Request } from './server.js'
import { badRequest, forbidden, notFound } from '../errors.js'
import { isMsgId } from '@implus/client/wire'
import type { Sql } from '../db/connect.js'
import { downloadable, type DownloadableFile } from '../media/files.js'
import type { Uploads } from '../media/uploads.js'
import type { BlobStore } from '../media/store.js'
import { contentDisposition } from '../media/names.js'
import { FileReply } from './file-reply.js'
import { etagMatches, parseRange } from './range.js'
import type { UrlSigner } from './signed-url.js'

export interface FileRouteDeps {
  readonly sql: Sql
  readonly uploads: Uploads
  readonly store: BlobStore
  readonly signer: UrlSigner
}

// Types a browser may show in place. Anything else downloads as an attachment, so an uploaded page or
// script never runs in this origin (and nosniff keeps a browser from guessing otherwise).
const INLINE = /^(image\/(jpeg|png|gif|webp|avif)|video\/(mp4|webm|ogg)|audio\/[\w.+-]+)$/

function fileIdParam (value: string | undefined): string {
  if (!isMsgId(value)) throw badRequest('fileId must be a decimal file id')
  return value
}

/** The file if the caller may have it: 404 for an unknown id (first), 403 for someone else's. */
async function requireFile (sql: Sql, fileId: string, userId: string): Promise<DownloadableFile> {
  const file = await downloadable(sql, fileId, userId)
  if (file === null) throw notFound(`file ${fileId} does not exist`)
  if (!file.allowed) throw forbidden(`file ${fileId} was not sent to you`)
  return file
}

export function fileRoutes (api: HttpApi, { sql, uploads, store, signer }: FileRouteDeps): void {
  api.upload('/api/files', uploads.maxUploadBytes, async req => {
    const name = new URLSearchParams(req.query).get('name')
    if (name === null) throw badRequest('name is required: POST /api/files?name=<file name>')
    return await uploads.receive(req.userId, name, req.upload!)
  })

  api.getAndHead('/api/files/:fileId', 'signed', async req => {
    const file = await requireFile(sql, fileIdParam(req.params[0]), req.userId)
    return reply(file, req, store)
  }, { headers: ['range', 'if-none-match', 'if-range'] })

  api.post('/api/files/:fileId/url', 'user', async req => {
    const fileId = fileIdParam(req.params[0])
    await requireFile(sql, fileId, req.userId)
    const { url, expiresAt } = signer.sign(`/api/files/${fileId}`, req.userId)
    return { url, expiresAt: expiresAt.toISOString() }
  })
}

/** 200, 206, 304 or 416 for a download, by the request's validators and range. */
function reply (file: DownloadableFile, req: Request, store: BlobStore): FileReply {
  const etag = `"${file.sha256}"`
  const headers: [string, string][] = [
    ['etag', etag],
    // Revalidated on every use (a 304 is cheap): a recall or a member leaving takes effect at once.
    ['cache-control', 'private, no-cache'],
    ['accept-ranges', 'bytes']
  ]
  if (req.headers['if-none-match'] !== '' && etagMatches(req.headers['if-none-match']!, etag)) return new FileReply(304, headers, 0, null)
  headers.push(
    ['content-type', file.mimeType],
    ['content-disposition', contentDisposition(INLINE.test(file.mimeType) ? 'inline' : 'attachment', file.name)],
    ['x-content-type-options', 'nosniff'],
    ['content-security-policy', "default-src 'none'; sandbox"]
  )
  // If-Range: the range only applies to the copy the client already has part of.
  const ifRange = req.headers['if-range']!
  const range = ifRange !== '' && ifRange !== etag ? null : parseRange(req.headers.range!, file.size)
  if (range === 'unsatisfiable') {
    headers.push(['content-range', `bytes */${file.size}`])
    return new FileReply(416, headers, 0, null)
  }
  const start = range?.start ?? 0
  const end = range?.end ?? file.size - 1
  if (range !== null) headers.push(['content-range', `bytes ${start}-${end}/${file.size}`])
  return new FileReply(range === null ? 200 : 206, headers, end - start + 1, () => store.read(file.storageKey, start, end))
}
