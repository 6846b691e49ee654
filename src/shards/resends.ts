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

export interface ResendLimits {
  /** Pushes one user may have waiting for an ACK on this shard (IMPLUS_RESEND_MAX_PER_USER). */
  readonly perUser: number
  /** Bytes of pushed frames the shard keeps for resending (IMPLUS_RESEND_MAX_BYTES). */
  readonly bytes: number
}

const RETRY_TAG = 0x40 // field 8 (retry), varint
// A wheel entry's own heap beyond its frame: key string, Pushed object, map slots.
const ENTRY_BYTES = 200

/**
 * Pushes waiting for their ACK, per (message, user), on a timing wheel:
 * resent 5, 15 and 35 s after the first push with `retry` incremented, then
 * reported failed 30 s after the third resend (docs/protocol.md). Bounded per
 * user and in bytes: a push beyond either bound is sent once, untracked, and
 * reported failed at once, so its receiver finds it by pulling.
 */
export class Resends {
  private readonly wheel = new TimingWheel<Pushed>()
  private readonly perUser = new Map<string, number>()
  private bytes = 0

  constructor (private readonly actions: ResendActions, private readonly limits: ResendLimits) {}

  get pending (): number {
    return this.wheel.size
  }

  /** Estimated bytes held for resending. */
  get heldBytes (): number {
    return this.bytes
  }

  track (msgId: string, userId: string, frame: Uint8Array): void {
    const key = `${msgId}:${userId}`
    this.release(this.wheel.cancel(key))
    const held = this.perUser.get(userId) ?? 0
    if (held >= this.limits.perUser || this.bytes + ENTRY_BYTES + frame.length > this.limits.bytes) return this.actions.failed(userId, msgId)
    this.perUser.set(userId, held + 1)
    this.bytes += ENTRY_BYTES + frame.length
    this.wheel.schedule(key, { userId, frame, retry: 0 }, resendDelayMs(0))
  }

  acknowledged (msgId: string, userId: string): void {
    this.release(this.wheel.cancel(`${msgId}:${userId}`))
  }

  /** One wheel tick: call every TICK_MS. */
  tick (): void {
    this.wheel.tick((key, pushed) => {
      if (!this.actions.online(pushed.userId)) return this.release(pushed)
      if (pushed.retry >= MAX_RESENDS) {
        this.release(pushed)
        return this.actions.failed(pushed.userId, key.slice(0, key.indexOf(':')))
      }
      pushed.retry++
      this.actions.resend(pushed.userId, withRetry(pushed.frame, pushed.retry))
      this.wheel.schedule(key, pushed, resendDelayMs(pushed.retry))
    })
  }

  private release (pushed: Pushed | undefined): void {
    if (pushed === undefined) return
    this.bytes -= ENTRY_BYTES + pushed.frame.length
    const held = this.perUser.get(pushed.userId)! - 1
    if (held === 0) this.perUser.delete(pushed.userId)
    else this.perUser.set(pushed.userId, held)
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
