import { LATENCY_BUCKETS, addHistogram, emptyHistogram, type HistogramCounts } from './histogram.js'
import { LoopDelay } from './loop-delay.js'

type Labels = Record<string, string>

export const LOOP_DELAY_METRIC = 'implus_eventloop_delay_seconds'
export const LOOP_DELAY_HELP = 'How late a 10 ms timer fired on each thread (main, shard-N): stalls from GC, long tasks or scheduling.'

export interface Series {
  readonly labels: string
  value: number
}

/**
 * A small Prometheus registry: counters and gauges with labels, rendered as
 * text. Hot paths hold a reference to their series and add to it, so an
 * increment is one property update, not a map lookup by label string.
 */
export class Metrics {
  private readonly families = new Map<string, { help: string, type: 'counter' | 'gauge', series: Map<string, Series> }>()
  private readonly histograms = new Map<string, { help: string, series: Map<string, HistogramCounts> }>()
  private readonly collectors: (() => void)[] = []
  private readonly loopDelay = new LoopDelay()

  constructor () {
    const rss = this.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.')
    const heap = this.gauge('nodejs_heap_used_bytes', 'V8 heap used in bytes.')
    const cpu = this.counter('process_cpu_seconds_total', 'Total user and system CPU time spent in seconds.')
    const lag = this.histogram(LOOP_DELAY_METRIC, LOOP_DELAY_HELP, { thread: 'main' })
    const started = Date.now()
    const uptime = this.gauge('process_uptime_seconds', 'Seconds since start.')
    this.collect(() => {
      const memory = process.memoryUsage()
      rss.value = memory.rss
      heap.value = memory.heapUsed
      const usage = process.cpuUsage()
      cpu.value = (usage.user + usage.system) / 1e6
      addHistogram(lag, this.loopDelay.take())
      uptime.value = (Date.now() - started) / 1000
    })
  }

  counter (name: string, help: string, labels: Labels = {}): Series {
    return this.series(name, help, 'counter', labels)
  }

  gauge (name: string, help: string, labels: Labels = {}): Series {
    return this.series(name, help, 'gauge', labels)
  }

  /** A latency histogram over LATENCY_BUCKETS, in seconds. */
  histogram (name: string, help: string, labels: Labels = {}): HistogramCounts {
    return seriesOf(this.histograms, name, () => ({ help, series: new Map() }), labels, emptyHistogram)
  }

  /** Runs before each render, for values cheaper to read on demand than to track. */
  collect (fn: () => void): void {
    this.collectors.push(fn)
  }

  render (): string {
    for (const fn of this.collectors) fn()
    let out = ''
    for (const [name, family] of this.families) {
      out += `# HELP ${name} ${family.help}\n# TYPE ${name} ${family.type}\n`
      for (const s of family.series.values()) out += `${name}${s.labels} ${s.value}\n`
    }
    for (const [name, family] of this.histograms) {
      out += `# HELP ${name} ${family.help}\n# TYPE ${name} histogram\n`
      for (const [labels, h] of family.series) {
        // Bucket lines carry `le` after the series' own labels.
        const prefix = labels === '' ? '{' : `${labels.slice(0, -1)},`
        let cumulative = 0
        for (let i = 0; i < h.buckets.length; i++) {
          cumulative += h.buckets[i]!
          out += `${name}_bucket${prefix}le="${i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i] : '+Inf'}"} ${cumulative}\n`
        }
        out += `${name}_sum${labels} ${h.sum}\n${name}_count${labels} ${h.count}\n`
      }
    }
    return out
  }

  private series (name: string, help: string, type: 'counter' | 'gauge', labels: Labels): Series {
    return seriesOf(this.families, name, () => ({ help, type, series: new Map() }), labels, key => ({ labels: key, value: 0 }))
  }
}

/** A family's series for these labels, each made on first use. */
function seriesOf<T> (families: Map<string, { series: Map<string, T> }>, name: string, newFamily: () => { series: Map<string, T> }, labels: Labels, newSeries: (key: string) => T): T {
  let family = families.get(name)
  if (family === undefined) {
    family = newFamily()
    families.set(name, family)
  }
  const key = labelText(labels)
  let series = family.series.get(key)
  if (series === undefined) {
    series = newSeries(key)
    family.series.set(key, series)
  }
  return series
}

function labelText (labels: Labels): string {
  return Object.keys(labels).length === 0
    ? ''
    : `{${Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`).join(',')}}`
}
