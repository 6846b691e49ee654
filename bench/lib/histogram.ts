/**
 * A mergeable latency histogram: log buckets 1% wide from 10 µs to ~10⁵ s, so a
 * load process can record millions of samples and send back ~2,000 numbers.
 */
const MIN_MS = 0.01
const GROWTH = Math.log(1.01)
const BUCKETS = 2400

export class Histogram {
  readonly counts: number[]
  count = 0
  max = 0

  constructor (counts?: number[], count = 0, max = 0) {
    this.counts = counts ?? new Array<number>(BUCKETS).fill(0)
    this.count = count
    this.max = max
  }

  record (ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / GROWTH))
    this.counts[i]!++
    this.count++
    if (ms > this.max) this.max = ms
  }

  reset (): void {
    this.counts.fill(0)
    this.count = 0
    this.max = 0
  }

  /** The upper edge of the bucket holding the p-quantile (0..1), in ms. */
  percentile (p: number): number {
    if (this.count === 0) return 0
    const rank = Math.min(this.count, Math.max(1, Math.ceil(this.count * p)))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.min(this.max, MIN_MS * Math.exp(i * GROWTH))
    }
    return this.max
  }

  toJSON (): { counts: number[], count: number, max: number } {
    return { counts: this.counts, count: this.count, max: this.max }
  }

  static merge (parts: { counts: number[], count: number, max: number }[]): Histogram {
    const merged = new Histogram()
    for (const part of parts) {
      for (let i = 0; i < BUCKETS; i++) merged.counts[i]! += part.counts[i] ?? 0
      merged.count += part.count
      merged.max = Math.max(merged.max, part.max)
    }
    return merged
  }
}
