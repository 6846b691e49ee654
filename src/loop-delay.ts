import { emptyHistogram, observe, type HistogramCounts } from './histogram.js'

const SAMPLE_MS = 10

/**
 * Event-loop delay of the thread it runs on, as a histogram: a timer due every 10 ms records how late
 * it fired. A stall (GC, a long synchronous task, the thread descheduled on a busy core) shows as one
 * late sample of its length. Cheap enough to run on every thread all the time.
 */
export class LoopDelay {
  private counts = emptyHistogram()
  private last = performance.now()
  private readonly timer: NodeJS.Timeout

  constructor () {
    this.timer = setInterval(() => {
      const now = performance.now()
      observe(this.counts, Math.max(0, now - this.last - SAMPLE_MS) / 1000)
      this.last = now
    }, SAMPLE_MS)
    this.timer.unref()
  }

  /** Samples since the last call (a worker posts them to the main thread). */
  take (): HistogramCounts {
    const taken = this.counts
    this.counts = emptyHistogram()
    return taken
  }

  stop (): void {
    clearInterval(this.timer)
  }
}
