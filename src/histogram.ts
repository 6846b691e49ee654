// Latency histograms kept as plain data, so a worker thread can fill one and post it to the main thread.

/** Upper bounds (seconds) of latency buckets: a millisecond to ten seconds. */
export const LATENCY_BUCKETS = Object.freeze([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10])

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
  let i = 0
  while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]!) i++
  h.buckets[i]!++
  h.sum += seconds
  h.count++
}

/** Adds `from` into `into` (a worker's report into the registry's series). */
export function addHistogram (into: HistogramCounts, from: HistogramCounts): void {
  for (let i = 0; i < into.buckets.length; i++) into.buckets[i]! += from.buckets[i] ?? 0
  into.sum += from.sum
  into.count += from.count
}
