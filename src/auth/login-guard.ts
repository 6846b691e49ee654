import { AppError, Status } from '../errors.js'
import { LOGIN_GUARD_ENTRIES, trimOldest } from '../memory-budget.js'

/** How long login attempts count against a user. */
export const LOGIN_FAILURE_WINDOW_MS = 15 * 60 * 1000

/** A user's login attempts not yet forgiven by a success: failures, and those still being checked. */
interface Attempts {
  count: number
  /** When the first of them happened; the window runs from here. */
  since: number
}

/**
 * Caps password guesses per user: after `limit` failed logins within the
 * window, logins for that user answer 429 until the window ends, without
 * spending a scrypt verification. A success clears the count. Per host: in a
 * cluster an attacker spread over N hosts gets N × limit guesses per window.
 */
export class LoginGuard {
  private readonly attempts = new Map<string, Attempts>()

  constructor (private readonly limit: number, private readonly windowMs = LOGIN_FAILURE_WINDOW_MS, private readonly now: () => number = Date.now) {}

  /**
   * Counts a login attempt before its password is checked, so concurrent guesses cannot all slip in
   * under the limit; throws 429 once the user has used up the window. A limit of 0 turns the guard off.
   */
  attempt (userId: string): void {
    if (this.limit === 0) return
    const entry = this.current(userId)
    if (entry === undefined) {
      if (this.attempts.size >= LOGIN_GUARD_ENTRIES) this.makeRoom()
      this.attempts.set(userId, { count: 1, since: this.now() })
    } else if (entry.count < this.limit) entry.count++
    else {
      const leftSeconds = Math.ceil((entry.since + this.windowMs - this.now()) / 1000)
      throw new AppError(Status.RATE_LIMITED, `too many failed logins for this user: retry in ${leftSeconds} s`, leftSeconds)
    }
  }

  /** The password could not be checked (server busy, storage down): that attempt does not count. */
  notChecked (userId: string): void {
    const entry = this.attempts.get(userId)
    if (entry !== undefined && entry.count > 0) entry.count--
  }

  /** The password was right: the attempts so far are forgiven. */
  succeeded (userId: string): void {
    this.attempts.delete(userId)
  }

  /** The user's attempts in the current window; an expired entry is dropped. */
  private current (userId: string): Attempts | undefined {
    const entry = this.attempts.get(userId)
    if (entry === undefined || entry.since + this.windowMs > this.now()) return entry
    this.attempts.delete(userId)
    return undefined
  }

  /**
   * Tracked users are bounded (LOGIN_GUARD_ENTRIES): unknown ids count too, so that 429 does not tell which
   * users exist, and an attacker can invent any number of them. Expired entries go first, then the oldest
   * (insertion order is age order).
   */
  private makeRoom (): void {
    const expired = this.now() - this.windowMs
    for (const [userId, entry] of this.attempts) if (entry.since <= expired) this.attempts.delete(userId)
    trimOldest(this.attempts, LOGIN_GUARD_ENTRIES - 1)
  }
}
