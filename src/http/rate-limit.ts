/**
 * Requests per key (a user) per one-second window. Counts live only for the
 * current window, so memory is bounded by the keys active within a second; a
 * window boundary may let two bursts meet, which is fine for a flood guard.
 */
export class WindowRateLimit {
  private window = -1
  private readonly counts = new Map<string, number>()

  constructor (private readonly perSecond: number, private readonly now: () => number = Date.now) {}

  allow (key: string): boolean {
    const window = Math.floor(this.now() / 1000)
    if (window !== this.window) {
      this.window = window
      this.counts.clear()
    }
    const count = (this.counts.get(key) ?? 0) + 1
    this.counts.set(key, count)
    return count <= this.perSecond
  }
}
