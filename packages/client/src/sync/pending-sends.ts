// Sends awaiting their receipt. The server is idempotent on (sender, clientSeq) for 5 minutes, so a send
// is resent with the same clientSeq until the server answers: a lost frame or receipt costs a resend,
// never a duplicate message. A refusal that says "later" (429 rate limited, 503 overloaded or draining)
// is resent the same way; only the other codes are final. Transmissions are paced below the rate the
// server told in 1001, so a reconnect flush of a long queue is not refused for speed.

import { backoffDelay, systemScheduler, type BackoffPolicy, type Scheduler, type TimerHandle } from './timing.js'

const MESSAGE_SEND_RECEIPT = 2007
const MESSAGE_DELIVERY_FAILED = 1006

/** 1006 codes that mean "resend later with the same clientSeq"; every other code is final. */
export const RETRYABLE_SEND_CODES: ReadonlySet<number> = new Set([429, 503])

// Share of the server's rate and burst a flush may use: the rest is left to ACKs, heartbeats and read
// receipts, which take from the same bucket on the server.
const RATE_SHARE = 0.8
const BURST_SHARE = 0.5

/** A chat frame to send (3001 or 3002), without its clientSeq: PendingSends assigns it. */
export interface ChatDraft {
  type: number
  toId?: string
  conversationId?: string
  content?: string
  contentType?: number
}

export interface ChatFrame extends ChatDraft {
  clientSeq: string
}

/** The fields of a server frame that settle a send. */
export interface SettlingFrame {
  type?: number
  clientSeq?: string
  errorCode?: number
  content?: string
}

/**
 * A send that will not get a receipt. `errorCode` is the server's (1006) or, for failures decided here:
 * 429 too many pending sends, 408 no answer within the idempotency window, 499 the queue was closed.
 */
export class SendError extends Error {
  readonly errorCode: number
  readonly reason: string
  readonly clientSeq: string

  constructor (errorCode: number, reason: string, clientSeq: string) {
    super(`send failed (${errorCode}): ${reason}`)
    this.name = 'SendError'
    this.errorCode = errorCode
    this.reason = reason
    this.clientSeq = clientSeq
  }
}

export interface PendingSendsOptions {
  /** Writes a frame to the current connection; may throw while disconnected (the resend covers it). */
  readonly sendFrame: (frame: ChatFrame) => void
  readonly scheduler?: Scheduler
  readonly random?: () => number
  readonly newClientSeq?: () => string
  /** Sends waiting at most; beyond, send() rejects. Default 10,000. */
  readonly maxPending?: number
  /** First resend after this, doubling (±20 %); default 2,000 ms. */
  readonly baseDelayMs?: number
  /** Longest wait between resends; default 30,000 ms. */
  readonly maxDelayMs?: number
  /**
   * Give up after this long, default 240,000 ms: past the server's 5-minute idempotency window a resend
   * could store the message twice.
   */
  readonly expireMs?: number
}

interface Entry<F> {
  readonly frame: ChatFrame
  readonly createdAt: number
  readonly resolve: (receipt: F) => void
  readonly reject: (error: SendError) => void
  retries: number
  timer: TimerHandle | null
  /** Waiting in the pacing queue for a token. */
  queued: boolean
}

function newUuid (): string {
  const c = globalThis.crypto
  // randomUUID exists only in secure contexts in browsers (https, localhost); getRandomValues everywhere.
  if (typeof c.randomUUID === 'function') return c.randomUUID()
  const b = c.getRandomValues(new Uint8Array(16))
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export class PendingSends<F extends SettlingFrame = SettlingFrame> {
  readonly #sendFrame: (frame: ChatFrame) => void
  readonly #scheduler: Scheduler
  readonly #random: () => number
  readonly #newClientSeq: () => string
  readonly #maxPending: number
  readonly #expireMs: number
  readonly #backoff: BackoffPolicy
  readonly #entries = new Map<string, Entry<F>>()
  /** Pacing: a token bucket mirroring the server's (tokens per second, size); unlimited until setRate. */
  #rate = Infinity
  #burst = Infinity
  #tokens = Infinity
  #refilledAt = 0
  readonly #queue: Entry<F>[] = []
  #queueTimer: TimerHandle | null = null

  constructor (options: PendingSendsOptions) {
    this.#sendFrame = options.sendFrame
    this.#scheduler = options.scheduler ?? systemScheduler
    this.#random = options.random ?? Math.random
    this.#newClientSeq = options.newClientSeq ?? newUuid
    this.#maxPending = options.maxPending ?? 10_000
    this.#expireMs = options.expireMs ?? 240_000
    const baseMs = options.baseDelayMs ?? 2_000
    const maxMs = options.maxDelayMs ?? 30_000
    for (const [name, value] of [['maxPending', this.#maxPending], ['expireMs', this.#expireMs], ['baseDelayMs', baseMs], ['maxDelayMs', maxMs]] as const) {
      if (!(value > 0)) throw new RangeError(`PendingSends option ${name} must be positive, got ${value}`)
    }
    this.#backoff = { baseMs, maxMs, jitter: 0.2 }
  }

  /** Sends waiting for their receipt. */
  get size (): number {
    return this.#entries.size
  }

  /** Sends `draft` under a fresh clientSeq; resolves with its 2007 receipt, rejects with a SendError. */
  send (draft: ChatDraft): Promise<F> {
    if (this.#entries.size >= this.#maxPending) {
      return Promise.reject(new SendError(429, `more than ${this.#maxPending} sends pending`, ''))
    }
    const frame: ChatFrame = { ...draft, clientSeq: this.#newClientSeq() }
    return new Promise<F>((resolve, reject) => {
      const entry: Entry<F> = { frame, createdAt: this.#scheduler.now(), resolve, reject, retries: 0, timer: null, queued: false }
      this.#entries.set(frame.clientSeq, entry)
      this.#transmit(entry)
    })
  }

  /** Settles the send a 2007 or 1006 answers; true if the frame was one of those for a pending send. */
  handleFrame (frame: F): boolean {
    if (frame.clientSeq === undefined) return false
    const entry = this.#entries.get(frame.clientSeq)
    if (entry === undefined) return false
    if (frame.type === MESSAGE_SEND_RECEIPT) {
      this.#settle(entry)
      entry.resolve(frame)
      return true
    }
    if (frame.type === MESSAGE_DELIVERY_FAILED) {
      if (RETRYABLE_SEND_CODES.has(frame.errorCode ?? 0)) {
        // Not stored: the resend timer already running sends it again, backing off as it goes.
        return true
      }
      this.#settle(entry)
      entry.reject(new SendError(frame.errorCode ?? 0, frame.content ?? '', entry.frame.clientSeq))
      return true
    }
    return false
  }

  /** Whether a send with this clientSeq still waits for its answer. */
  has (clientSeq: string): boolean {
    return this.#entries.has(clientSeq)
  }

  /**
   * The connection's rate limit from 1001 (frames per second sustained, bucket size); 0 for unknown
   * (no pacing). Sends are then paced at a share of it; the bucket starts full, as the server's does.
   */
  setRate (perSecond: number, burst: number): void {
    this.#rate = perSecond > 0 ? Math.max(1, perSecond * RATE_SHARE) : Infinity
    this.#burst = perSecond > 0 ? Math.max(1, Math.floor(Math.max(burst, perSecond) * BURST_SHARE)) : Infinity
    this.#tokens = this.#burst
    this.#refilledAt = this.#scheduler.now()
  }

  /** Resends everything pending on a fresh connection, oldest first and paced, restarting each back-off. */
  reconnected (): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.timer !== null) this.#scheduler.clearTimeout(entry.timer)
      entry.timer = null
      entry.retries = 0
      if (!entry.queued) this.#transmit(entry)
    }
  }

  /** Rejects every pending send (code 499) and stops resending. */
  close (): void {
    if (this.#queueTimer !== null) this.#scheduler.clearTimeout(this.#queueTimer)
    this.#queueTimer = null
    this.#queue.length = 0
    for (const entry of [...this.#entries.values()]) {
      this.#settle(entry)
      entry.reject(new SendError(499, 'pending sends closed', entry.frame.clientSeq))
    }
  }

  /** Sends now if a token is free, else queues the entry behind the others. */
  #transmit (entry: Entry<F>): void {
    if (this.#queue.length > 0 || !this.#takeToken()) {
      entry.queued = true
      this.#queue.push(entry)
      this.#scheduleQueue()
      return
    }
    this.#transmitNow(entry)
  }

  #takeToken (): boolean {
    if (this.#rate === Infinity) return true
    const now = this.#scheduler.now()
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#refilledAt) * this.#rate / 1000)
    this.#refilledAt = now
    if (this.#tokens < 1) return false
    this.#tokens--
    return true
  }

  #scheduleQueue (): void {
    if (this.#queueTimer !== null) return
    const wait = this.#rate === Infinity ? 0 : Math.ceil((1 - this.#tokens) * 1000 / this.#rate)
    this.#queueTimer = this.#scheduler.setTimeout(() => {
      this.#queueTimer = null
      while (this.#queue.length > 0) {
        const entry = this.#queue[0]!
        if (!this.#entries.has(entry.frame.clientSeq)) {
          this.#queue.shift()
          continue
        }
        if (!this.#takeToken()) break
        this.#queue.shift()
        entry.queued = false
        this.#transmitNow(entry)
      }
      if (this.#queue.length > 0) this.#scheduleQueue()
    }, Math.max(1, wait))
  }

  #transmitNow (entry: Entry<F>): void {
    const left = entry.createdAt + this.#expireMs - this.#scheduler.now()
    if (left <= 0) {
      this.#settle(entry)
      entry.reject(new SendError(408, 'no answer within the idempotency window; the message may have been stored', entry.frame.clientSeq))
      return
    }
    try {
      this.#sendFrame(entry.frame)
    } catch {
      // Disconnected: the timer below or reconnected() sends it again.
    }
    // The answer may already have come back through sendFrame.
    if (!this.#entries.has(entry.frame.clientSeq)) return
    entry.timer = this.#scheduler.setTimeout(() => {
      entry.timer = null
      entry.retries++
      this.#transmit(entry)
    }, Math.min(left, backoffDelay(entry.retries, this.#backoff, this.#random)))
  }

  #settle (entry: Entry<F>): void {
    if (entry.timer !== null) this.#scheduler.clearTimeout(entry.timer)
    entry.timer = null
    this.#entries.delete(entry.frame.clientSeq)
  }
}
