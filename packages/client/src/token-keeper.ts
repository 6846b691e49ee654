// The session token of an ImClient: refreshed through the app's callback shortly before it expires and
// whenever the server refuses it (HTTP 401, or a login answered with 401), one refresh at a time.
import type { Scheduler, TimerHandle } from './sync/timing.js'

/** A token and, when known, when it expires (LoginResult from login or refreshToken is one). */
export interface TokenGrant {
  token: string
  /** ISO 8601, epoch milliseconds or a Date; if absent, read from the token's JWT `exp` claim when it has one. */
  expiresAt?: string | number | Date
}

/**
 * The app's way to get a fresh token: `ImHttpClient.refreshToken()` while the current one is valid, or a
 * new login (or the app's own auth service) once it is not. A plain string is a token of unknown expiry.
 */
export type RefreshToken = (current: string) => Promise<TokenGrant | string>

/** Refresh once this share of the token's life is left, but never later than MIN_LEAD_MS before it ends. */
const LEAD_SHARE = 0.2
const MIN_LEAD_MS = 30_000
/** setTimeout's ceiling (about 24.8 days); a longer wait is re-armed when it ends. */
const MAX_TIMER_MS = 2 ** 31 - 1
const RETRY_MS = 5_000

/** Expiry (epoch ms) from a JWT's `exp` claim; null for a token that is not a JWT or has no `exp`. */
export function jwtExpiry (token: string): number | null {
  const payload = token.split('.')[1]
  if (payload === undefined) return null
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(payload.length / 4) * 4, '='))
    const exp = (JSON.parse(json) as { exp?: unknown }).exp
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : null
  } catch {
    return null
  }
}

function expiryOf (grant: TokenGrant): number | null {
  if (grant.expiresAt === undefined) return jwtExpiry(grant.token)
  const ms = grant.expiresAt instanceof Date ? grant.expiresAt.getTime() : typeof grant.expiresAt === 'number' ? grant.expiresAt : Date.parse(grant.expiresAt)
  return Number.isFinite(ms) ? ms : jwtExpiry(grant.token)
}

export interface TokenKeeperOptions {
  grant: TokenGrant
  refresh: RefreshToken | undefined
  scheduler: Scheduler
  /** A new token is in use (the app may store it). */
  onRefreshed: (grant: TokenGrant) => void
  /** A scheduled refresh failed; it is retried while the token lasts, and a 401 tries again. */
  onError: (error: Error) => void
}

export class TokenKeeper {
  #token: string
  #expiresAt: number | null
  readonly #opts: TokenKeeperOptions
  #timer: TimerHandle | null = null
  #inFlight: Promise<string> | null = null
  #stopped = false

  constructor (opts: TokenKeeperOptions) {
    this.#opts = opts
    this.#token = opts.grant.token
    this.#expiresAt = expiryOf(opts.grant)
    this.#arm()
  }

  get token (): string {
    return this.#token
  }

  /** Epoch ms, or null when unknown. */
  get expiresAt (): number | null {
    return this.#expiresAt
  }

  get canRefresh (): boolean {
    return this.#opts.refresh !== undefined
  }

  /**
   * A fresh token from the app's callback; concurrent callers share one call. Rejects when there is no
   * callback. Still works after stop(): the client's HTTP API outlives its socket.
   */
  refresh (): Promise<string> {
    const refresh = this.#opts.refresh
    if (refresh === undefined) return Promise.reject(new Error('no refreshToken callback: the token cannot be renewed'))
    this.#inFlight ??= (async () => {
      try {
        const answer = await refresh(this.#token)
        const grant: TokenGrant = typeof answer === 'string' ? { token: answer } : answer
        if (typeof grant?.token !== 'string' || grant.token === '') throw new TypeError('refreshToken returned no token')
        this.#token = grant.token
        this.#expiresAt = expiryOf(grant)
        this.#arm()
        this.#opts.onRefreshed(grant)
        return grant.token
      } finally {
        this.#inFlight = null
      }
    })()
    return this.#inFlight
  }

  /** No more scheduled renewals (the client closed); renewals on demand (a 401) still happen. */
  stop (): void {
    this.#stopped = true
    this.#clear()
  }

  #clear (): void {
    if (this.#timer !== null) this.#opts.scheduler.clearTimeout(this.#timer)
    this.#timer = null
  }

  #arm (delayMs?: number): void {
    this.#clear()
    if (!this.canRefresh || this.#stopped || this.#expiresAt === null) return
    const { scheduler } = this.#opts
    const left = this.#expiresAt - scheduler.now()
    const wait = delayMs ?? Math.max(0, Math.min(left * (1 - LEAD_SHARE), left - MIN_LEAD_MS))
    const timer = scheduler.setTimeout(() => {
      this.#timer = null
      if (wait > MAX_TIMER_MS) return this.#arm()
      this.refresh().catch((error: unknown) => {
        this.#opts.onError(new Error('token refresh failed', { cause: error }))
        // While the token lasts, try again; after that, the next 401 asks again.
        if (this.#expiresAt !== null && this.#expiresAt > scheduler.now() + RETRY_MS) this.#arm(RETRY_MS)
      })
    }, Math.min(wait, MAX_TIMER_MS))
    // Node: a refresh timer must not keep a process alive that has nothing else to do.
    ;(timer as { unref?: () => void }).unref?.()
    this.#timer = timer
  }
}
