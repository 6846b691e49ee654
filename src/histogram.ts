// Latency histograms kept as plain data, so a worker thread can fill one and post it to the main thread.

/**
 * Upper bounds (seconds) of latency buckets: 100 µs to ten seconds, dense between 5 and 150 ms, where
 * a p99 goal sits, so a percentile read from the buckets is close to the true one.
 */
export const LATENCY_BUCKETS = Object.freeze([
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 10
])

/** Observations of a latency histogram, as a worker thread reports them (plain data: it crosses postMessage). */
export interface HistogramCounts {
  /** Per bucket of LATENCY_BUCKETS, then one for everything above the last. Not cumulative. */
  readonly buckets: number[]
  sum: number
  count: number
}

export function emptyHistogram (): HistogramCounts {
  return { buckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0), sum: 0, count: 0 }
}

export function observe (h: HistogramCounts, seconds: number): void {
  observeMany(h, seconds, 1)
}

/** `times` observations of the same value: a batch stage every message of the batch waited through. */
export function observeMany (h: HistogramCounts, seconds: number, times: number): void {
  if (times <= 0) return
  let i = 0
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++
  h.buckets[i]! += times
  h.sum += seconds * times
  h.count += times
}

/** Adds `from` into `into` (a worker's report into the registry's series). */
export function addHistogram (into: HistogramCounts, from: HistogramCounts): void {
  for (let i = 0; i < into.buckets.length; i++) into.buckets[i]! += from.buckets[i] ?? 0
  into.sum += from.sum
  into.count += from.count
}

/** Milliseconds since the epoch at sub-millisecond precision, comparable between threads (one monotonic clock). */
export function sharedNow (): number {
  return performance.timeOrigin + performance.now()
}
