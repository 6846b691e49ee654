import { Status } from '../errors.js'
import { isMsgId } from '@implus/client/wire'
import { fileNameProblem } from './names.js'

/**
 * Media messages (docs/protocol.md "Media messages"): contentType 2 image,
 * 3 file, 4 voice, 5 video carry a small JSON document naming an uploaded
 * file. The shard parses it once (`parseMediaDocument`), checks it against
 * the stored file (`mediaRefusal`) and stores the completed document
 * (`completeDocument`), so receivers always get the server's facts, never
 * the sender's claims.
 */
export const MediaType = Object.freeze({ IMAGE: 2, FILE: 3, VOICE: 4, VIDEO: 5 })

export function isMediaType (contentType: number): boolean {
  return contentType >= MediaType.IMAGE && contentType <= MediaType.VIDEO
}

/** What a sender may write; every field but fileId is optional, and the given ones must be true. */
export interface MediaDocument {
  readonly fileId: string
  readonly name: string | null
  readonly size: number | null
  readonly mimeType: string | null
  readonly width: number | null
  readonly height: number | null
  readonly thumbnailId: string | null
  /** Seconds, voice and video only (the server does not decode audio or video). */
  readonly duration: number | null
}

/** A stored file as the checks need it. */
export interface StoredFile {
  readonly fileId: string
  readonly ownerId: string
  readonly name: string
  readonly size: number
  readonly mimeType: string
  readonly width: number | null
  readonly height: number | null
  readonly thumbnailId: string | null
}

export interface Refusal {
  readonly status: number
  readonly reason: string
}

const FIELDS = new Set(['fileId', 'name', 'size', 'mimeType', 'width', 'height', 'thumbnailId', 'duration'])
const MAX_DURATION_SECONDS = 24 * 3600
const TYPE_NAMES: Record<number, string> = { 2: 'image', 3: 'file', 4: 'voice', 5: 'video' }

const bad = (reason: string): Refusal => ({ status: Status.BAD_REQUEST, reason })

/** The document of a media message, or why it is not one. */
export function parseMediaDocument (content: string, contentType: number): MediaDocument | Refusal {
  const kind = TYPE_NAMES[contentType]
  let value: unknown
  try {
    value = JSON.parse(content)
  } catch {
    return bad(`a ${kind} message's content must be a JSON object naming an uploaded file ({"fileId": "…"})`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad(`a ${kind} message's content must be a JSON object`)
  const doc = value as Record<string, unknown>
  for (const key of Object.keys(doc)) if (!FIELDS.has(key)) return bad(`unknown field '${key}' in a ${kind} message`)
  if (!isMsgId(doc.fileId)) return bad('fileId must be a file id (a decimal string)')
  if (doc.thumbnailId !== undefined && !isMsgId(doc.thumbnailId)) return bad('thumbnailId must be a file id (a decimal string)')
  if (doc.name !== undefined) {
    if (typeof doc.name !== 'string') return bad('name must be a string')
    const problem = fileNameProblem(doc.name)
    if (problem !== null) return bad(`name ${problem}`)
  }
  if (doc.mimeType !== undefined && typeof doc.mimeType !== 'string') return bad('mimeType must be a string')
  for (const key of ['size', 'width', 'height'] as const) {
    const v = doc[key]
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) return bad(`${key} must be a non-negative integer`)
  }
  if (doc.duration !== undefined) {
    if (contentType !== MediaType.VOICE && contentType !== MediaType.VIDEO) return bad('duration is only for voice and video messages')
    if (typeof doc.duration !== 'number' || !Number.isFinite(doc.duration) || doc.duration < 0 || doc.duration > MAX_DURATION_SECONDS) {
      return bad(`duration must be a number of seconds from 0 to ${MAX_DURATION_SECONDS}`)
    }
  }
  return {
    fileId: doc.fileId,
    name: (doc.name as string | undefined) ?? null,
    size: (doc.size as number | undefined) ?? null,
    mimeType: (doc.mimeType as string | undefined) ?? null,
    width: (doc.width as number | undefined) ?? null,
    height: (doc.height as number | undefined) ?? null,
    thumbnailId: (doc.thumbnailId as string | undefined) ?? null,
    duration: (doc.duration as number | undefined) ?? null
  }
}

export function isRefusal (value: MediaDocument | Refusal): value is Refusal {
  return (value as Refusal).status !== undefined
}

/** The thumbnail a message shows: the one given, else the image's own. */
function thumbnailOf (doc: MediaDocument, file: StoredFile): string | null {
  return doc.thumbnailId ?? file.thumbnailId
}

/** Every file a message refers to (its file and thumbnail), once the document passed `mediaRefusal`. */
export function referencedFiles (doc: MediaDocument, file: StoredFile): string[] {
  const thumbnail = thumbnailOf(doc, file)
  return thumbnail === null || thumbnail === file.fileId ? [file.fileId] : [file.fileId, thumbnail]
}

/**
 * Whether the sender may send this document as this content type: the file exists and is the sender's,
 * what the document says about it is true, and its kind fits (an image the server could decode, audio
 * for voice, video for video). `files` holds the stored files the batch named.
 */
export function mediaRefusal (doc: MediaDocument, contentType: number, senderId: string, files: ReadonlyMap<string, StoredFile>): Refusal | null {
  const file = files.get(doc.fileId)
  if (file === undefined) return bad(`file ${doc.fileId} does not exist`)
  if (file.ownerId !== senderId) return bad(`file ${doc.fileId} was not uploaded by you`)
  for (const key of ['size', 'mimeType', 'width', 'height'] as const) {
    if (doc[key] !== null && doc[key] !== file[key]) return bad(`${key} ${JSON.stringify(doc[key])} does not match the file (${JSON.stringify(file[key])})`)
  }
  const kindRefusal = kindProblem(contentType, file)
  if (kindRefusal !== null) return bad(kindRefusal)
  if (doc.thumbnailId !== null && doc.thumbnailId !== file.thumbnailId) {
    const thumbnail = files.get(doc.thumbnailId)
    if (thumbnail === undefined) return bad(`thumbnail file ${doc.thumbnailId} does not exist`)
    if (thumbnail.ownerId !== senderId) return bad(`thumbnail file ${doc.thumbnailId} was not uploaded by you`)
    if (thumbnail.width === null) return bad(`thumbnail file ${doc.thumbnailId} is not an image the server could read`)
  }
  return null
}

function kindProblem (contentType: number, file: StoredFile): string | null {
  switch (contentType) {
    case MediaType.IMAGE:
      return file.width === null ? `file ${file.fileId} is not an image the server could read (${file.mimeType}): send it as a file (contentType 3)` : null
    case MediaType.VOICE:
      // Recorders often write WebM or MP4 containers, which the sniffer reports as video.
      return file.mimeType.startsWith('audio/') || file.mimeType === 'video/webm' || file.mimeType === 'video/mp4'
        ? null
        : `file ${file.fileId} is not audio (${file.mimeType}): send it as a file (contentType 3)`
    case MediaType.VIDEO:
      return file.mimeType.startsWith('video/') ? null : `file ${file.fileId} is not a video (${file.mimeType}): send it as a file (contentType 3)`
    default:
      return null
  }
}

/** The stored document: the file's facts, the sender's name for it, the thumbnail and duration. */
export function completeDocument (doc: MediaDocument, file: StoredFile): string {
  const out: Record<string, unknown> = { fileId: file.fileId, name: doc.name ?? file.name, size: file.size, mimeType: file.mimeType }
  if (file.width !== null) {
    out.width = file.width
    out.height = file.height
  }
  const thumbnail = thumbnailOf(doc, file)
  if (thumbnail !== null) out.thumbnailId = thumbnail
  if (doc.duration !== null) out.duration = doc.duration
  return JSON.stringify(out)
}

/** The 1007 preview text of a media message (before the usual 20-character cut): its kind and name. */
export function mediaPreviewText (contentType: number, name: string): string {
  return `[${TYPE_NAMES[contentType]}] ${name}`
}
