import { createHash, timingSafeEqual } from 'node:crypto'
import { endResponse, type HttpResponse, type TemplatedApp } from '../io/uws.js'
import { AppError, Status, badRequest, forbidden, reasonPhrase, tooLarge, unauthorized, type StatusCode } from '../errors.js'
import type { TokenService } from '../auth/tokens.js'
import type { Metrics } from '../metrics.js'
import { observe } from '../histogram.js'
import { WindowRateLimit } from './rate-limit.js'
import type { Logger } from '../log.js'
import { FileReply, writeFileReply, type Exchange } from './file-reply.js'
import { UploadBody } from './upload-body.js'
import { SignatureError, type UrlSigner } from './signed-url.js'
import { MissingObjectError } from '../media/store.js'

/** 'signed': a user's bearer token, or a URL that UrlSigner signed for the user (GET and HEAD). */
export type Auth = 'none' | 'user' | 'admin' | 'signed'
type Method = 'get' | 'post' | 'del' | 'head'

export interface Request {
  /** The token's user; '' on routes without user auth. */
  readonly userId: string
  readonly params: readonly string[]
  readonly query: string
  /** The Host header: how the client reached this server. */
  readonly host: string
  /** Parsed JSON object of a POST body, {} when the body is empty (and on upload routes). */
  readonly body: Record<string, unknown>
  /** The request headers the route asked for (lower-case names; '' when absent). */
  readonly headers: Readonly<Record<string, string>>
  /** Upload routes: the body, not read yet. */
  readonly upload: UploadBody | null
}

export interface RouteOptions {
  /** Request headers the handler reads. */
  readonly headers?: readonly string[]
}

export type Handler = (req: Request) => unknown

export interface HttpDeps {
  readonly tokens: TokenService
  readonly adminToken: string | null
  readonly maxBodyBytes: number
  /** Authenticated requests per user per second; beyond it 429. */
  readonly rateLimitPerSecond: number
  readonly metrics: Metrics
  readonly log: Logger
  /** Verifies signed URLs on 'signed' routes; null: those routes take bearer tokens only. */
  readonly signer: UrlSigner | null
}

interface Incoming {
  readonly method: Method
  readonly url: string
  readonly params: string[]
  readonly authorization: string
  readonly contentLength: string
  readonly query: string
  readonly host: string
  readonly headers: Record<string, string>
}

const JSON_HEADER = 'application/json; charset=utf-8'
/**
 * The HTTP API's plumbing on a uWS app: routing, body limits, bearer auth,
 * the `{code, message, data}` envelope and per-route counters. Route modules
 * register plain handlers that return data or throw AppError.
 */
export class HttpApi {
  private readonly perUser: WindowRateLimit
  /** The admin token's digest: comparing digests in constant time hides the token's length too. */
  private readonly adminDigest: Buffer | null
  private readonly sentFileBytes

  constructor (private readonly app: TemplatedApp, private readonly deps: HttpDeps) {
    this.perUser = new WindowRateLimit(deps.rateLimitPerSecond)
    this.adminDigest = deps.adminToken === null ? null : sha256(deps.adminToken)
    this.sentFileBytes = deps.metrics.counter('implus_media_download_bytes_total', 'File bytes sent by downloads.')
  }

  get (pattern: string, auth: Auth, handler: Handler, options: RouteOptions = {}): this { return this.route('get', pattern, auth, handler, options) }
  /** GET and HEAD with one handler; a HEAD gets a FileReply's headers only. */
  getAndHead (pattern: string, auth: Auth, handler: Handler, options: RouteOptions = {}): this {
    return this.route('get', pattern, auth, handler, options).route('head', pattern, auth, handler, options)
  }

  post (pattern: string, auth: Auth, handler: Handler): this { return this.route('post', pattern, auth, handler) }
  del (pattern: string, auth: Auth, handler: Handler): this { return this.route('del', pattern, auth, handler) }

  /**
   * A POST whose body is a file of at most maxBodyBytes, streamed by the handler (req.upload): the caller
   * is authenticated before a byte of the body is read. An answer given before the body was read whole
   * (a refusal) goes out at once and the rest is read and dropped after it (see handle()), so the unread
   * rest never passes for the next request.
   */
  upload (pattern: string, maxBodyBytes: number, handler: Handler): this { return this.route('post', pattern, 'user', handler, {}, maxBodyBytes) }

  /** uploadLimit: upload routes' largest body (see upload()); null: a JSON body, or none. */
  private route (method: Method, pattern: string, auth: Auth, handler: Handler, options: RouteOptions = {}, uploadLimit: number | null = null): this {
    const paramCount = pattern.split('/').filter(s => s.startsWith(':')).length
    const { metrics } = this.deps
    const route = `${method.toUpperCase()} ${pattern}`
    const duration = metrics.histogram('http_request_duration_seconds', 'HTTP request time by route, from request to response.', { route })
    const counters = new Map<number, { value: number }>()
    const count = (status: number): void => {
      let series = counters.get(status)
      if (series === undefined) {
        series = metrics.counter('http_requests_total', 'HTTP requests by route and status.', { route, status: String(status) })
        counters.set(status, series)
      }
      series.value++
    }
    const wanted = options.headers ?? []
    this.app[method](pattern, (res, req) => {
      const started = performance.now()
      // uWS invalidates `req` when this callback returns: copy what we need first.
      const params: string[] = []
      for (let i = 0; i < paramCount; i++) params.push(decodePathParameter(req.getParameter(i) ?? ''))
      const headers: Record<string, string> = {}
      for (const name of wanted) headers[name] = req.getHeader(name)
      const incoming: Incoming = {
        method,
        url: req.getUrl(),
        params,
        authorization: req.getHeader('authorization'),
        contentLength: req.getHeader('content-length'),
        query: req.getQuery() ?? '',
        host: req.getHeader('host'),
        headers
      }
      const exchange: Exchange = { aborted: false, onAbort: null }
      // The data handler must be attached before this callback returns, even though auth comes first.
      const upload = uploadLimit !== null ? new UploadBody(res, incoming.contentLength) : null
      res.onAborted(() => {
        exchange.aborted = true
        upload?.abort()
        exchange.onAbort?.()
      })
      void this.handle(res, exchange, incoming, upload, uploadLimit ?? 0, auth, handler)
        .then(status => {
          count(status)
          observe(duration, (performance.now() - started) / 1000)
        })
    })
    return this
  }

  private async handle (res: HttpResponse, exchange: Exchange, incoming: Incoming, upload: UploadBody | null, uploadLimit: number, auth: Auth, handler: Handler): Promise<number> {
    let status: StatusCode = Status.OK
    let message = 'success'
    let data: unknown = null
    let retryAfterSeconds: number | null = null
    try {
      const body = incoming.method === 'get' || incoming.method === 'head' || upload !== null
        ? {}
        : await readJson(res, incoming.contentLength, this.deps.maxBodyBytes)
      const userId = await this.authenticate(auth, incoming)
      data = await handler({ userId, params: incoming.params, query: incoming.query, host: incoming.host, body, headers: incoming.headers, upload })
      if (data instanceof FileReply) {
        await writeFileReply(res, exchange, data, incoming.method === 'head', this.sentFileBytes)
        return data.status
      }
      if (data === undefined) data = null
    } catch (err) {
      if (err instanceof AppError) {
        status = err.status
        message = err.message
        retryAfterSeconds = err.retryAfterSeconds
      } else if (err instanceof MissingObjectError) {
        // Its row was there a moment ago: the sweep deleted it meanwhile.
        status = Status.NOT_FOUND
        message = 'file not found'
        this.deps.log.warn({ key: err.key }, 'a file\'s stored object is missing')
      } else if (isStorageOutage(err)) {
        status = Status.UNAVAILABLE
        message = 'storage unavailable, retry later'
        this.deps.log.error({ err }, 'HTTP request failed: PostgreSQL unreachable')
      } else {
        status = Status.INTERNAL
        message = 'internal error'
        this.deps.log.error({ err }, 'HTTP handler failed')
      }
    }
    let closeConnection = false
    if (upload !== null && !upload.received && !exchange.aborted) {
      // Answered before the body was read whole (a refusal: quota, name, rate, token…). Closing now would
      // leave unread bytes, so the kernel would reset the connection, and a client still writing its body
      // (Node's fetch) would lose the answer to an EPIPE. So the answer goes out now and the rest is read
      // and dropped after it (a lingering close, as nginx does), which also leaves the connection usable;
      // that costs no more than an accepted upload, so only for a declared body within the route's limit.
      // A larger or unknown rest is not worth reading: the connection closes after the answer.
      if (upload.declaredLength !== null && upload.declaredLength <= uploadLimit) upload.dropRest()
      else closeConnection = true
    }
    upload?.close()
    if (!exchange.aborted) res.cork(() => sendEnvelope(res, status, message, data, { closeConnection, retryAfterSeconds, head: incoming.method === 'head' }))
    return status
  }

  private async authenticate (auth: Auth, incoming: Incoming): Promise<string> {
    if (auth === 'none') return ''
    const header = incoming.authorization
    if (auth === 'signed' && header === '' && this.deps.signer !== null) {
      let signedFor: string | null
      try {
        signedFor = this.deps.signer.verify(incoming.url, incoming.query)
      } catch (err) {
        if (err instanceof SignatureError) throw unauthorized(err.message)
        throw err
      }
      if (signedFor !== null) return this.limited(signedFor)
    }
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : ''
    if (auth === 'admin') {
      if (this.adminDigest === null) throw forbidden('admin API is off: set IMPLUS_ADMIN_TOKEN')
      if (!timingSafeEqual(sha256(token), this.adminDigest)) throw unauthorized('admin token required')
      return ''
    }
    if (token === '') throw unauthorized('missing bearer token')
    return this.limited(await this.deps.tokens.authenticate(token))
  }

  private limited (userId: string): string {
    if (!this.perUser.allow(userId)) throw new AppError(Status.RATE_LIMITED, `too many requests: at most ${this.deps.rateLimitPerSecond} per second per user`, 1)
    return userId
  }
}

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'])

/** PostgreSQL unreachable or shutting down (SQLSTATE classes 08 and 57P): the client should retry, not report a bug. */
function isStorageOutage (err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && (CONNECTION_ERRORS.has(code) || code.startsWith('08') || code.startsWith('57P'))
}

/** A malformed %-escape becomes a value no validator accepts (a 400 naming the field), never an exception. */
function decodePathParameter (raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

export interface EnvelopeOptions {
  /** Close the connection after this answer. */
  readonly closeConnection?: boolean
  /** Sent as `Retry-After` (whole seconds, at least 1). */
  readonly retryAfterSeconds?: number | null
  /** Answering a HEAD request: the headers only. */
  readonly head?: boolean
}

export function sendEnvelope (res: HttpResponse, status: StatusCode, message: string, data: unknown, options: EnvelopeOptions = {}): void {
  res.writeStatus(`${status} ${reasonPhrase(status)}`).writeHeader('content-type', JSON_HEADER)
  const retryAfter = options.retryAfterSeconds ?? null
  if (retryAfter !== null) res.writeHeader('retry-after', String(Math.max(1, Math.ceil(retryAfter))))
  endResponse(res, JSON.stringify({ code: status, message, data }), options.head ?? false, options.closeConnection ?? false)
}

function readJson (res: HttpResponse, contentLength: string, limit: number): Promise<Record<string, unknown>> {
  if (contentLength !== '' && Number(contentLength) > limit) return Promise.reject(tooLarge(`body over ${limit} bytes`))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    let failed = false
    res.onData((chunk, isLast) => {
      if (failed) return
      size += chunk.byteLength
      if (size > limit) {
        failed = true
        reject(tooLarge(`body over ${limit} bytes`))
        return
      }
      // uWS neuters the ArrayBuffer after this callback: copy it.
      chunks.push(Buffer.from(chunk.slice(0)))
      if (!isLast) return
      const text = Buffer.concat(chunks).toString('utf8')
      if (text.trim() === '') return resolve({})
      try {
        const parsed: unknown = JSON.parse(text)
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return reject(badRequest('body must be a JSON object'))
        resolve(parsed as Record<string, unknown>)
      } catch {
        reject(badRequest('malformed JSON body'))
      }
    })
  })
}

/** Where a body's `userId` stands for the caller (docs/protocol.md), any other value is refused. */
export function assertCaller (req: Request, field: unknown): void {
  if (field !== undefined && field !== null && String(field) !== req.userId) throw forbidden('userId is not the token\'s user')
}
