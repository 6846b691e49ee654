import { Closers } from './closers.js'
import type { Phase } from './http/health.js'
import type { Logger } from './log.js'
import { interruptHandler, takeOverSignal } from './signals.js'

const SHUTDOWN_DEADLINE_MS = 25_000

/**
 * The process from start to exit: its phase (what /readyz says), the closers every component registers
 * where it is created, and the one way it stops. A stop asked for while the start is under way lets the
 * start finish first: closing under it would leave what it opens next without a closer (shard workers, a
 * Redis node slot, listeners, a first-run database set-up half written). Then everything closes in order.
 */
export class Lifecycle {
  readonly closers = new Closers()
  private current: Phase = 'starting'
  private stopAsked = false
  private start: Promise<unknown> = Promise.resolve()
  private startSettled = true

  constructor (private readonly log: Logger) {}

  get phase (): Phase {
    return this.current
  }

  /** Whether a stop was asked for: a start that fails after it is not a failure to exit on (the stop exits). */
  get stopping (): boolean {
    return this.stopAsked
  }

  /** Runs the start; a stop waits for it to settle. */
  starting<T> (start: Promise<T>): Promise<T> {
    this.start = start
    this.startSettled = false
    const settled = (): void => { this.startSettled = true }
    start.then(settled, settled)
    return start
  }

  /** What a stop is waiting on right now: a closer's name, the start, or nothing. */
  private get waitingOn (): string | null {
    return this.closers.current ?? (this.startSettled ? null : 'the start')
  }

  /** The server is ready, unless a stop was asked for meanwhile: then false, and nothing may say ready. */
  ready (): boolean {
    if (this.stopAsked) return false
    this.current = 'ready'
    return true
  }

  /**
   * SIGTERM, SIGINT (Ctrl-C) and SIGHUP (its terminal closed) stop it, from the start on. A repeated SIGTERM
   * or SIGHUP (asking again) must not cut the drain short: it stays handled. A second Ctrl-C is a person
   * who will not wait (see interruptHandler): 130, as a shell reports it. `nohup` cannot keep the server
   * running: Node resets the signal dispositions it inherits as it starts.
   */
  handleSignals (): void {
    takeOverSignal('SIGTERM', () => void this.stop('SIGTERM'))
    takeOverSignal('SIGHUP', () => void this.stop('SIGHUP'))
    takeOverSignal('SIGINT', interruptHandler(() => void this.stop('SIGINT'), () => {
      this.log.warn({ closer: this.waitingOn }, 'Ctrl-C again: exiting without finishing the drain')
      process.exit(130)
    }))
  }

  /** Stops in order (see Closers) and exits with `exitCode`; one that overruns the deadline exits 1, naming where it was stuck. */
  async stop (reason: string, exitCode = 0): Promise<void> {
    if (this.stopAsked) return
    this.stopAsked = true
    const whileStarting = this.current === 'starting'
    this.current = 'draining'
    if (whileStarting) this.log.info({ signal: reason }, 'stop asked while starting: the start finishes first')
    // Kept referenced: a closer (or start) waiting on something that never comes must still end in an exit, with its name.
    setTimeout(() => {
      this.log.error({ closer: this.waitingOn, deadlineMs: SHUTDOWN_DEADLINE_MS }, 'shutdown did not finish in time; exiting')
      process.exit(1)
    }, SHUTDOWN_DEADLINE_MS)
    // A failed start is logged where it is awaited; what it opened before failing still closes here.
    await this.start.catch(() => {})
    this.log.info({ signal: reason }, 'draining')
    await this.closers.closeAll(this.log)
    this.log.info('stopped')
    process.exit(exitCode)
  }
}
