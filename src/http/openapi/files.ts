// OpenAPI source of the file endpoints (src/http/files.ts).
import { object, type JsonSchema, type PathSpecs } from './spec.js'

const fileId: JsonSchema = { type: 'string', pattern: '^[1-9][0-9]{0,18}$', description: 'a file id (decimal; random 63-bit)' }
const nullableInt = { type: ['integer', 'null'], minimum: 1 }

const fileInfo = object({
  fileId,
  name: { type: 'string', description: 'as given at upload' },
  size: { type: 'integer', minimum: 1 },
  mimeType: { type: 'string', description: 'sniffed from the bytes' },
  sha256: { type: 'string', pattern: '^[0-9a-f]{64}$', description: "hex; the download's ETag" },
  width: { ...nullableInt, description: 'images the server decodes (JPEG, PNG, GIF, WebP, AVIF, TIFF), as displayed' },
  height: nullableInt,
  thumbnailId: { oneOf: [fileId, { type: 'null' }], description: 'a WebP of at most 320×320, downloaded like any file' },
  createTime: { type: 'string', format: 'date-time' }
})

const bytes = (description: string) => ({ statuses: [200, 206, 304, 416], contentType: 'application/octet-stream', description, schema: { type: 'string', format: 'binary' } })

const download = {
  auth: 'signed' as const,
  params: { fileId },
  query: object({
    u: { type: 'string', description: 'signed URLs: the user it was signed for' },
    exp: { type: 'string', description: 'signed URLs: expiry, unix seconds' },
    sig: { type: 'string', description: 'signed URLs: the signature' }
  }, ['u', 'exp', 'sig']),
  raw: bytes('the file (Content-Type: its sniffed type; 206 for a Range, 304 for a matching If-None-Match, 416 for a range past the end)'),
  errors: [403, 404]
}

export const filePaths: PathSpecs = {
  '/api/files': {
    post: {
      operationId: 'uploadFile',
      summary: 'Upload a file (streamed; type sniffed from the bytes; images measured and thumbnailed)',
      description: '413 over IMPLUS_MAX_UPLOAD_BYTES, 429 past the daily quota or with 4 uploads in progress, 400 for an empty body, a path-like name, an image over IMPLUS_MAX_IMAGE_PIXELS or one that cannot be decoded.',
      auth: 'user',
      query: object({ name: { type: 'string', minLength: 1, maxLength: 255, description: 'the file name (a name, not a path)' } }),
      upload: { contentType: 'application/octet-stream', description: 'the file\'s bytes (any Content-Type is accepted and ignored)' },
      data: fileInfo
    }
  },
  '/api/files/{fileId}': {
    get: { operationId: 'downloadFile', summary: 'Download a file: its uploader and members of conversations it was sent in (ranges, ETag)', ...download },
    head: { operationId: 'fileHeaders', summary: "A download's headers, no body", ...download }
  },
  '/api/files/{fileId}/url': {
    post: {
      operationId: 'signFileUrl',
      summary: 'A short-lived URL for the file that works without a token (for <img src>)',
      auth: 'user',
      params: { fileId },
      data: object({
        url: { type: 'string', pattern: '^/api/files/[0-9]+\\?u=[0-9]+&exp=[0-9]+&sig=[A-Za-z0-9_-]+$', description: 'a path on this server' },
        expiresAt: { type: 'string', format: 'date-time' }
      }),
      errors: [403, 404]
    }
  }
}
