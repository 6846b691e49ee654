// Sends awaiting their receipt. The server is idempotent on (sender, clientSeq) for 5 minutes, so a send
// is resent with the same clientSeq until the server answers: a lost frame or receipt costs a resend,
// never a duplicate message.

import { backoffDelay, systemScheduler, type BackoffPolicy, type Scheduler, type TimerHandle } from './timing.js'

const MESSAGE_SEND_RECEIPT = 2007
const MESSAGE_DELIVERY_FAILED = 1006

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
      const entry: Entry<F> = { frame, createdAt: this.#scheduler.now(), resolve, reject, retries: 0, timer: null }
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
      this.#settle(entry)
      entry.reject(new SendError(frame.errorCode ?? 0, frame.content ?? '', entry.frame.clientSeq))
      return true
    }
    return false
  }

  /** Resends everything pending at once on a fresh connection, restarting each back-off. */
  reconnected (): void {
    for (const entry of [...this.#entries.values()]) {
      if (entry.timer !== null) this.#scheduler.clearTimeout(entry.timer)
      entry.retries = 0
      this.#transmit(entry)
    }
  }

  /** Rejects every pending send (code 499) and stops resending. */
  close (): void {
    for (const entry of [...this.#entries.values()]) {
      this.#settle(entry)
      entry.reject(new SendError(499, 'pending sends closed', entry.frame.clientSeq))
    }
  }

  #transmit (entry: Entry<F>): void {
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
