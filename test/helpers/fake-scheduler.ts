// A Scheduler whose clock moves only when a test says so: back-off and batching are tested without sleeping.

import type { Scheduler, TimerHandle } from '../../packages/client/src/sync/timing.js'

interface Timer {
  readonly id: number
  readonly at: number
  readonly fn: () => void
}

export class FakeScheduler implements Scheduler {
  #now = 0
  #nextId = 1
  #timers: Timer[] = []

  now (): number {
    return this.#now
  }

  setTimeout (fn: () => void, ms: number): TimerHandle {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), fn }
    this.#timers.push(timer)
    return timer.id
  }

  clearTimeout (handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle)
  }

  /** Delays, from now, of the timers still pending, soonest first. */
  get pending (): number[] {
    return this.#timers.map((t) => t.at - this.#now).sort((a, b) => a - b)
  }

  /** Moves the clock by `ms`, running each timer that falls due, in due order. */
  advance (ms: number): void {
    const end = this.#now + ms
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.id - b.id)[0]
      if (due === undefined) break
      this.#timers = this.#timers.filter((t) => t !== due)
      this.#now = due.at
      due.fn()
    }
    this.#now = end
  }
}

/** Lets settled promises run their callbacks. */
export function settle (): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Deterministic PRNG (mulberry32) for seeded randomized tests. */
export function seededRandom (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
