// Timers and back-off shared by the client's sync components. Timers go through an injected Scheduler so
// tests drive time by hand instead of sleeping.

/** An opaque timer handle: whatever the scheduler's setTimeout returned. */
export type TimerHandle = unknown

export interface Scheduler {
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
}

/** The host's timers: Node and browsers alike. */
export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
}

export interface BackoffPolicy {
  /** Delay after the first failure. */
  readonly baseMs: number
  /** Ceiling of any delay, jitter included. */
  readonly maxMs: number
  /** Relative spread, e.g. 0.2 for ±20 %. */
  readonly jitter: number
}

/**
 * Delay before retry number `attempt` (0 for the first retry): base × 2^attempt, spread by ±jitter so
 * clients cut off together do not come back together, then capped.
 */
export function backoffDelay (attempt: number, policy: BackoffPolicy, random: () => number): number {
  const raw = policy.baseMs * 2 ** attempt
  const spread = 1 + policy.jitter * (2 * random() - 1)
  return Math.round(Math.min(policy.maxMs, raw * spread))
}
