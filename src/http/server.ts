import { createHash, timingSafeEqual } from 'node:crypto'
import type { HttpResponse, TemplatedApp } from '../io/uws.js'
import { AppError, Status, badRequest, forbidden, reasonPhrase, tooLarge, unauthorized, type StatusCode } from '../errors.js'
import type { TokenService } from '../auth/tokens.js'
import type { Metrics } from '../metrics.js'
import { observe } from '../histogram.js'
import { WindowRateLimit } from './rate-limit.js'
import type { Logger } from '../log.js'

export type Auth = 'none' | 'user' | 'admin'
type Method = 'get' | 'post' | 'del'

export interface Request {
  /** The token's user; '' on routes without user auth. */
  readonly userId: string
  readonly params: readonly string[]
  readonly query: string
  /** The Host header: how the client reached this server. */
  readonly host: string
  /** Parsed JSON object of a POST body, {} when the body is empty. */
  readonly body: Record<string, unknown>
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

  constructor (private readonly app: TemplatedApp, private readonly deps: HttpDeps) {
    this.perUser = new WindowRateLimit(deps.rateLimitPerSecond)
    this.adminDigest = deps.adminToken === null ? null : sha256(deps.adminToken)
  }

  get (pattern: string, auth: Auth, handler: Handler): this { return this.route('get', pattern, auth, handler) }
  post (pattern: string, auth: Auth, handler: Handler): this { return this.route('post', pattern, auth, handler) }
  del (pattern: string, auth: Auth, handler: Handler): this { return this.route('del', pattern, auth, handler) }

  private route (method: Method, pattern: string, auth: Auth, handler: Handler): this {
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
    this.app[method](pattern, (res, req) => {
      const started = performance.now()
      // uWS invalidates `req` when this callback returns: copy what we need first.
      const params: string[] = []
      for (let i = 0; i < paramCount; i++) params.push(decodePathParameter(req.getParameter(i) ?? ''))
      const authorization = req.getHeader('authorization')
      const contentLength = req.getHeader('content-length')
      const query = req.getQuery() ?? ''
      const host = req.getHeader('host')
      const state = { aborted: false }
      res.onAborted(() => { state.aborted = true })
      void this.handle(res, state, { method, params, authorization, contentLength, query, host }, auth, handler)
        .then(status => {
          count(status)
          observe(duration, (performance.now() - started) / 1000)
        })
    })
    return this
  }

  private async handle (
    res: HttpResponse, state: { aborted: boolean },
    incoming: { method: Method, params: string[], authorization: string, contentLength: string, query: string, host: string },
    auth: Auth, handler: Handler
  ): Promise<number> {
    let status: StatusCode = Status.OK
    let message = 'success'
    let data: unknown = null
    try {
      const body = incoming.method === 'get' ? {} : await readJson(res, incoming.contentLength, this.deps.maxBodyBytes)
      const userId = await this.authenticate(auth, incoming.authorization)
      data = await handler({ userId, params: incoming.params, query: incoming.query, host: incoming.host, body })
      if (data === undefined) data = null
    } catch (err) {
      if (err instanceof AppError) {
        status = err.status
        message = err.message
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
    if (!state.aborted) res.cork(() => sendEnvelope(res, status, message, data))
    return status
  }

  private async authenticate (auth: Auth, header: string): Promise<string> {
    if (auth === 'none') return ''
    const token = header.startsWith('Bearer ') ? header.slice(7).trim() : ''
    if (auth === 'admin') {
      if (this.adminDigest === null) throw forbidden('admin API is off: set IMPLUS_ADMIN_TOKEN')
      if (!timingSafeEqual(sha256(token), this.adminDigest)) throw unauthorized('admin token required')
      return ''
    }
    if (token === '') throw unauthorized('missing bearer token')
    const userId = await this.deps.tokens.authenticate(token)
    if (!this.perUser.allow(userId)) throw new AppError(Status.RATE_LIMITED, `too many requests: at most ${this.deps.rateLimitPerSecond} per second per user`)
    return userId
  }
}

function sha256 (text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED'])

/** PostgreSQL unreachable or shutting down (SQLSTATE classes 08 and 57P): the client should retry, not report a bug. */
function isStorageOutage (err: unknown): boolean {
  const code = (err as { code?: unknown }).code
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

export function sendEnvelope (res: HttpResponse, status: StatusCode, message: string, data: unknown): void {
  res.writeStatus(`${status} ${reasonPhrase(status)}`)
    .writeHeader('content-type', JSON_HEADER)
    .end(JSON.stringify({ code: status, message, data }))
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
