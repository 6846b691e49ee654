// Media messages (docs/protocol.md "Files", "Media messages"): the content types that carry a file, the
// JSON document they carry, and how an upload's bytes go out with progress in Node and in browsers.
import type { FileInfo } from './wire/api-types.js'

/** Message content types (the frames' and MessageInfo's `contentType`). */
export const ContentType = {
  TEXT: 1,
  IMAGE: 2,
  FILE: 3,
  VOICE: 4,
  VIDEO: 5,
} as const

export type MediaKind = 'image' | 'file' | 'voice' | 'video'

const KIND_TYPES: Record<MediaKind, number> = { image: ContentType.IMAGE, file: ContentType.FILE, voice: ContentType.VOICE, video: ContentType.VIDEO }

/** The document a media message carries; what receivers get is completed by the server from the file. */
export interface MediaContent {
  fileId: string
  name?: string
  size?: number
  mimeType?: string
  width?: number
  height?: number
  thumbnailId?: string
  /** Seconds; voice and video only. */
  duration?: number
}

export interface UploadProgress {
  /** Bytes sent so far. */
  loaded: number
  /** Bytes in all. */
  total: number
}

/** What an upload takes: a browser File or Blob, a Node Blob (`fs.openAsBlob(path)` streams from disk), or bytes. */
export type UploadBody = Blob | Uint8Array

/** The kind a file is sent as when the caller does not say: an image only if the server could read it. */
export function mediaKindOf (file: FileInfo): MediaKind {
  if (file.width !== null && file.mimeType.startsWith('image/')) return 'image'
  if (file.mimeType.startsWith('video/')) return 'video'
  if (file.mimeType.startsWith('audio/')) return 'voice'
  return 'file'
}

export function contentTypeOf (kind: MediaKind): number {
  return KIND_TYPES[kind]
}

/** The media kind a message's contentType stands for, or null for text and the other non-file types. */
export function mediaKindOfType (contentType: number): MediaKind | null {
  for (const kind of Object.keys(KIND_TYPES) as MediaKind[]) if (KIND_TYPES[kind] === contentType) return kind
  return null
}

/**
 * A message as one line of a conversation list: a media message as its kind and name ("[image] beach.jpg"),
 * never its JSON document; anything else as its content. Takes a message, or a ConversationSummary's last
 * message as `{ contentType: s.lastMsgContentType, content: s.lastMsgContent }`.
 */
export function messagePreview (message: { contentType: number | null, content: string | null }): string {
  const content = message.content ?? ''
  const media = message.contentType === null ? null : mediaContent({ contentType: message.contentType, content })
  return media === null ? content : `[${mediaKindOfType(message.contentType!)!}] ${media.name ?? ''}`.trimEnd()
}

/** The media document of a message with contentType 2–5, or null (text, recalled, or not a document). */
export function mediaContent (message: { contentType: number, content: string }): MediaContent | null {
  if (message.contentType < ContentType.IMAGE || message.contentType > ContentType.VIDEO || message.content === '') return null
  try {
    const doc = JSON.parse(message.content) as unknown
    if (typeof doc !== 'object' || doc === null || typeof (doc as MediaContent).fileId !== 'string') return null
    return doc as MediaContent
  } catch {
    return null
  }
}

export interface UploadRequest {
  url: string
  headers: Record<string, string>
  body: UploadBody
  onProgress?: (progress: UploadProgress) => void
  signal?: AbortSignal
}

/** The answer as status and text, for the caller to read as an envelope. */
export interface RawAnswer {
  status: number
  statusText: string
  text: string
  /** The `Retry-After` header, when there is one. */
  retryAfter: string | null
}

/** A fetch Response read whole as a RawAnswer. */
export async function readAnswer (response: Response): Promise<RawAnswer> {
  return { status: response.status, statusText: response.statusText, text: await response.text(), retryAfter: response.headers.get('retry-after') }
}

/**
 * POSTs the body reporting progress. Browsers: XMLHttpRequest, whose upload events count what the network
 * took (fetch cannot stream a request body over HTTP/1.1 there). Elsewhere (Node): fetch with the body as
 * a stream counted as it is read, with its Content-Length so the server can refuse a too-large file at once.
 */
export function postWithProgress (request: UploadRequest): Promise<RawAnswer> {
  const blob = request.body instanceof Blob ? request.body : new Blob([request.body])
  const Xhr = (globalThis as { XMLHttpRequest?: XhrConstructor }).XMLHttpRequest
  return Xhr !== undefined ? postWithXhr(Xhr, request, blob) : postWithFetch(request, blob)
}

/** The subset of the browser's XMLHttpRequest used here (this package compiles without the DOM library). */
interface XhrLike {
  open: (method: string, url: string) => void
  setRequestHeader: (name: string, value: string) => void
  send: (body: Blob) => void
  abort: () => void
  readonly upload: { onprogress: ((event: { loaded: number }) => void) | null }
  readonly status: number
  readonly statusText: string
  readonly responseText: string
  getResponseHeader: (name: string) => string | null
  onload: (() => void) | null
  onerror: (() => void) | null
  onabort: (() => void) | null
}
type XhrConstructor = new () => XhrLike

function postWithXhr (Xhr: XhrConstructor, { url, headers, onProgress, signal }: UploadRequest, blob: Blob): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const xhr = new Xhr()
    xhr.open('POST', url)
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value)
    if (onProgress !== undefined) xhr.upload.onprogress = (e) => onProgress({ loaded: e.loaded, total: blob.size })
    xhr.onload = () => resolve({ status: xhr.status, statusText: xhr.statusText, text: xhr.responseText, retryAfter: xhr.getResponseHeader('retry-after') })
    xhr.onerror = () => reject(new TypeError('upload failed: network error'))
    xhr.onabort = () => reject(signal?.reason ?? new DOMException('upload aborted', 'AbortError'))
    if (signal !== undefined) {
      if (signal.aborted) return reject(signal.reason)
      signal.addEventListener('abort', () => xhr.abort(), { once: true })
    }
    xhr.send(blob)
  })
}

async function postWithFetch ({ url, headers, onProgress, signal }: UploadRequest, blob: Blob): Promise<RawAnswer> {
  let loaded = 0
  const counted = blob.stream().pipeThrough(new TransformStream<Uint8Array, Uint8Array>({
    transform (chunk, controller) {
      loaded += chunk.byteLength
      controller.enqueue(chunk)
      onProgress?.({ loaded, total: blob.size })
    },
  }))
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-length': String(blob.size) },
    body: counted,
    signal,
    duplex: 'half',
  } as RequestInit)
  return await readAnswer(response)
}
