import { cpus, totalmem, release, platform } from 'node:os'
import { readdirSync, readFileSync } from 'node:fs'

/** What a figure was measured on: printed first by every scenario. */
export function printMachine (scenario: string): void {
  const cpu = cpus()
  console.log(`# ${scenario}`)
  console.log(`# ${platform()} ${release()}, ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}`)
}

export function progress (message: string): void {
  process.stderr.write(`… ${message}\n`)
}

/** The p99 a step may have and still count below the knee. */
export const KNEE_P99_MS = 100

/**
 * The knee of a stepped curve: the highest offered rate whose step had p99 < 100 ms and lost nothing
 * (every send answered with a receipt, every message delivered, none refused); null if no step did.
 */
export function kneeOf (steps: { rate: number, p99Ms: number, lost: number }[]): number | null {
  let knee: number | null = null
  for (const step of steps) if (step.p99Ms < KNEE_P99_MS && step.lost === 0 && (knee === null || step.rate > knee)) knee = step.rate
  return knee
}

/** A plain-text table, then one JSON line (`BENCH {...}`) for machines; `knee` (see kneeOf) closes both. */
export function printResults (scenario: string, rows: Record<string, string | number>[], knee?: { rate: number | null, unit: string }): void {
  if (rows.length === 0) return
  const columns = Object.keys(rows[0]!)
  const widths = columns.map(c => Math.max(c.length, ...rows.map(r => String(r[c]).length)))
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padStart(widths[i]!)).join('  ')
  console.log(line(columns))
  console.log(line(widths.map(w => '-'.repeat(w))))
  for (const row of rows) console.log(line(columns.map(c => String(row[c]))))
  if (knee !== undefined) {
    console.log(knee.rate === null
      ? `knee: none (no step had p99 < ${KNEE_P99_MS} ms with nothing lost)`
      : `knee: ${knee.rate} ${knee.unit} (the highest step with p99 < ${KNEE_P99_MS} ms and nothing lost)`)
  }
  console.log(`BENCH ${JSON.stringify({ scenario, rows, ...(knee === undefined ? {} : { knee: knee.rate, kneeUnit: knee.unit }) })}`)
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds (pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return 0
  }
}

/** Resident memory of a process in bytes, from /proc. */
export function rssBytes (pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+)/.exec(status)?.[1]
  return Number(kb ?? 0) * 1024
}

/** CPU seconds of a PostgreSQL server: its postmaster (from postmaster.pid) and every backend it forked. */
export function postgresCpuSeconds (databaseDir: string): number {
  let postmaster: number
  try {
    postmaster = Number(readFileSync(`${databaseDir}/postmaster.pid`, 'utf8').split('\n')[0])
  } catch {
    return 0
  }
  let total = cpuSeconds(postmaster)
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (Number(stat.split(') ')[1]!.split(' ')[1]) === postmaster) total += cpuSeconds(Number(entry))
    } catch {}
  }
  return total
}

export function percentile (sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!
}

/** Labels a scrape keeps apart; every other label (shard, route, …) is summed over. */
const KEPT_LABELS = ['stage', 'thread']

/**
 * Sums of each metric family on a server's /metrics, labels added up except a stage's or a thread's
 * (kept as `name{stage=x}`); histogram buckets kept apart as `name|le`.
 */
export async function scrapeMetrics (httpUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text()
  const sums = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue
    let name = line.slice(0, line.search(/[{ ]/))
    for (const label of KEPT_LABELS) {
      const value = new RegExp(`[{,]${label}="([^"]+)"`).exec(line)?.[1]
      if (value !== undefined) name += `{${label}=${value}}`
    }
    if (line.includes('le="')) name += `|${/le="([^"]+)"/.exec(line)?.[1] ?? ''}`
    sums.set(name, (sums.get(name) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)))
  }
  return sums
}

/**
 * The p-quantile (ms) of a histogram's observations between two scrapes, interpolated linearly inside
 * the bucket that holds it; `series` is the family name with its kept labels, as scrapeMetrics keys it.
 */
export function histogramQuantileMs (before: Map<string, number>, after: Map<string, number>, family: string, labels: string, q: number): string {
  const delta = (key: string): number => (after.get(key) ?? 0) - (before.get(key) ?? 0)
  const count = delta(`${family}_count${labels}`)
  if (count === 0) return '-'
  const prefix = `${family}_bucket${labels}|`
  const bounds = [...after.keys()].filter(k => k.startsWith(prefix)).map(k => k.slice(prefix.length)).filter(b => b !== '+Inf')
    .map(Number).sort((a, b) => a - b)
  const rank = count * q
  let lower = 0
  let below = 0
  for (const bound of bounds) {
    const cumulative = delta(`${prefix}${bound}`)
    if (cumulative >= rank) {
      const inBucket = cumulative - below
      const at = inBucket === 0 ? 1 : (rank - below) / inBucket
      return ((lower + (bound - lower) * at) * 1000).toFixed(1)
    }
    lower = bound
    below = cumulative
  }
  return `>${bounds[bounds.length - 1]! * 1000}`
}

const STAGES = ['handoff', 'queue', 'check', 'numbering', 'commit_wait', 'commit', 'delivery']

/**
 * Where sends spent their time between two scrapes: per shard batch, averages; per stage of a send,
 * its p99 (implus_send_stage_seconds); per thread, the event loop's p99 and worst delay.
 */
export function shardBreakdown (before: Map<string, number>, after: Map<string, number>): Record<string, string> {
  const delta = (name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0)
  const cycles = Math.max(1, delta('implus_shard_cycles_total'))
  const row: Record<string, string> = {
    'msgs/batch': (delta('implus_shard_messages_total') / cycles).toFixed(1),
    // Server side only: a send reaching its shard to its receipt (checks, numbering, commit).
    'shard p99 ms': histogramQuantileMs(before, after, 'implus_send_seconds', '', 0.99)
  }
  for (const stage of STAGES) row[`${stage} p99`] = histogramQuantileMs(before, after, 'implus_send_stage_seconds', `{stage=${stage}}`, 0.99)
  const threads = [...after.keys()].map(k => /^implus_eventloop_delay_seconds_count\{thread=(.+)\}$/.exec(k)?.[1]).filter(t => t !== undefined).sort()
  for (const thread of threads) {
    const labels = `{thread=${thread}}`
    row[`${thread} loop p99/max`] = `${histogramQuantileMs(before, after, 'implus_eventloop_delay_seconds', labels, 0.99)}/${histogramQuantileMs(before, after, 'implus_eventloop_delay_seconds', labels, 1)}`
  }
  return row
}
