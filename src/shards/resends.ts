import { TimingWheel } from './timing-wheel.js'
import { MAX_RESENDS, resendDelayMs } from './rules.js'

interface Pushed {
  readonly userId: string
  readonly frame: Uint8Array
  retry: number
}

export interface ResendActions {
  /** Whether the user still has a device on this host (an offline user's pushes are dropped). */
  online (userId: string): boolean
  resend (userId: string, frame: Uint8Array): void
  /** No ACK after the last resend: the push failed for this user (status 4); pull takes over. */
  failed (userId: string, msgId: string): void
}

const RETRY_TAG = 0x40 // field 8 (retry), varint

/**
 * Pushes waiting for their ACK, per (message, user), on a timing wheel:
 * resent 5, 15 and 35 s after the first push with `retry` incremented, then
 * reported failed 30 s after the third resend (docs/protocol.md).
 */
export class Resends {
  private readonly wheel = new TimingWheel<Pushed>()

  constructor (private readonly actions: ResendActions) {}

  get pending (): number {
    return this.wheel.size
  }

  track (msgId: string, userId: string, frame: Uint8Array): void {
    this.wheel.schedule(`${msgId}:${userId}`, { userId, frame, retry: 0 }, resendDelayMs(0))
  }

  acknowledged (msgId: string, userId: string): void {
    this.wheel.cancel(`${msgId}:${userId}`)
  }

  /** One wheel tick: call every TICK_MS. */
  tick (): void {
    this.wheel.tick((key, pushed) => {
      if (!this.actions.online(pushed.userId)) return
      if (pushed.retry >= MAX_RESENDS) return this.actions.failed(pushed.userId, key.slice(0, key.indexOf(':')))
      pushed.retry++
      this.actions.resend(pushed.userId, withRetry(pushed.frame, pushed.retry))
      this.wheel.schedule(key, pushed, resendDelayMs(pushed.retry))
    })
  }
}

/** The pushed frame with `retry` set: appended, since for a repeated scalar field the last value wins. */
function withRetry (frame: Uint8Array, retry: number): Uint8Array {
  const out = new Uint8Array(frame.length + 2)
  out.set(frame)
  out[frame.length] = RETRY_TAG
  out[frame.length + 1] = retry
  return out
}
