// Pull compensation for one SeqStream: every claimed gap is pulled on its own, so one slow or failing range
// never holds back another (the seed's single "pulling" flag dropped every gap found while a pull ran),
// and what a pull returns goes through the stream to the app (the seed fetched it and never rendered it).

import type { SeqRange, SeqStream, StreamStep } from './stream.js'
import { backoffDelay, systemScheduler, type BackoffPolicy, type Scheduler, type TimerHandle } from './timing.js'

export interface GapPullerOptions<M> {
  readonly stream: SeqStream<M>
  /** Fetches the stream's messages in [from, to]; a seq it does not return is taken as empty. */
  readonly pull: (range: SeqRange) => Promise<readonly M[]>
  /** Receives messages in seq order, each once. */
  readonly deliver: (messages: M[]) => void
  /** A gap whose every attempt failed; it stays open for the next trigger (a later message, reconnect). */
  readonly onError?: (error: GapPullError) => void
  readonly scheduler?: Scheduler
  readonly random?: () => number
  /** Tries per gap, the first included; default 3. */
  readonly attempts?: number
  /** Wait after the first failure, doubling after each further one (±20 %); default 200 ms. */
  readonly baseDelayMs?: number
}

export class GapPullError extends Error {
  readonly range: SeqRange
  readonly attempts: number

  constructor (range: SeqRange, attempts: number, cause: unknown) {
    super(`pull of seqs ${range.from}..${range.to} failed ${attempts} times`, { cause })
    this.name = 'GapPullError'
    this.range = range
    this.attempts = attempts
  }
}

export class GapPuller<M> {
  readonly #stream: SeqStream<M>
  readonly #pull: (range: SeqRange) => Promise<readonly M[]>
  readonly #deliver: (messages: M[]) => void
  readonly #onError: ((error: GapPullError) => void) | null
  readonly #scheduler: Scheduler
  readonly #random: () => number
  readonly #attempts: number
  readonly #backoff: BackoffPolicy
  // Gaps waiting for their next attempt; cleared by close().
  readonly #timers = new Set<TimerHandle>()
  #active = 0
  #closed = false

  constructor (options: GapPullerOptions<M>) {
    const attempts = options.attempts ?? 3
    if (!Number.isSafeInteger(attempts) || attempts < 1) throw new RangeError(`GapPuller option attempts must be a positive integer, got ${attempts}`)
    const baseMs = options.baseDelayMs ?? 200
    if (!(baseMs >= 0)) throw new RangeError(`GapPuller option baseDelayMs must be non-negative, got ${baseMs}`)
    this.#stream = options.stream
    this.#pull = options.pull
    this.#deliver = options.deliver
    this.#onError = options.onError ?? null
    this.#scheduler = options.scheduler ?? systemScheduler
    this.#random = options.random ?? Math.random
    this.#attempts = attempts
    this.#backoff = { baseMs, maxMs: Infinity, jitter: 0.2 }
  }

  /** Gaps being pulled or waiting to retry. */
  get active (): number {
    return this.#active
  }

  /** A pushed message. */
  accept (seq: number, message: M): void {
    this.#apply(this.#stream.accept(seq, message))
  }

  /** The server's latest seq for this stream; see SeqStream.noteLatest. */
  noteLatest (seq: number): void {
    this.#apply(this.#stream.noteLatest(seq))
  }

  /** Stops retrying and ignores pulls still in flight. */
  close (): void {
    this.#closed = true
    for (const timer of this.#timers) this.#scheduler.clearTimeout(timer)
    this.#timers.clear()
  }

  #apply (step: StreamStep<M>): void {
    if (step.deliver.length > 0) this.#deliver(step.deliver)
    for (const gap of step.gaps) {
      this.#active++
      this.#attempt(gap, 0)
    }
  }

  #attempt (range: SeqRange, attempt: number): void {
    let pending: Promise<readonly M[]>
    try {
      pending = this.#pull(range)
    } catch (error) {
      pending = Promise.reject(error)
    }
    // Two-argument then: a throw from the app's deliver must not pass for a failed pull and be retried.
    pending.then(
      (messages) => {
        if (this.#closed) return
        this.#active--
        this.#apply(this.#stream.fill(range.from, range.to, messages))
      },
      (error: unknown) => {
        if (this.#closed) return
        if (attempt + 1 < this.#attempts) {
          const timer = this.#scheduler.setTimeout(() => {
            this.#timers.delete(timer)
            this.#attempt(range, attempt + 1)
          }, backoffDelay(attempt, this.#backoff, this.#random))
          this.#timers.add(timer)
          return
        }
        this.#active--
        this.#stream.release(range)
        this.#onError?.(new GapPullError(range, this.#attempts, error))
      }
    )
  }
}
