// Sustained private messages per second, each persisted, delivered and ACKed, with send → delivery
// latency (p50/p99/max) at stepped rates, where each send's server time went (stage p99s, event-loop
// delay per thread), and the knee: the highest rate with p99 < 100 ms and nothing lost.
// The per-connection rate limit is raised (IMPLUS_RATE_LIMIT=100000): this measures the server.
// Options: --users N (default 10000), --steps r1,r2,… (msg/s), --seconds S per step, --warmup S (at the
// first step's rate, not reported: fills the permission caches as a running server has them), --loaders K.
import { forkLoad } from './lib/loaders.js'
import { parseArgs } from 'node:util'
import { startServer, freePort } from '../test/helpers/server.js'
import { createUsers } from './lib/population.js'
import { postgresColumns, postgresStats } from './lib/postgres-stats.js'
import { cpuSeconds, kneeOf, postgresCpuSeconds, percentile, printMachine, printResults, progress, scrapeMetrics, shardBreakdown } from './lib/report.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    steps: { type: 'string', default: '2000,5000,8000,11000,14000,17000,20000' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '5' },
    loaders: { type: 'string', default: '2' },
    shards: { type: 'string', default: '2' },
    // Writes V8 CPU profiles of the server's threads (node --cpu-prof) into this folder.
    profile: { type: 'string' }
  }
})
const userCount = Number(values.users)
const loaders = Number(values.loaders)
printMachine('private-chat')

const pgPort = await freePort()
const RATE_LIMIT = '100000'
console.log(`# ${userCount} users online over WebSocket, ${loaders} load processes, IMPLUS_SHARDS=${values.shards}; per-connection rate limit raised to IMPLUS_RATE_LIMIT=${RATE_LIMIT} msg/s`)
const server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_RATE_LIMIT: RATE_LIMIT, IMPLUS_EMBEDDED_PG_PORT: String(pgPort), IMPLUS_SHARDS: values.shards! }, nodeArgs: values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] })
const pgDir = `${server.dataDir}/pg`
const pgStats = postgresStats(server.dataDir, pgPort)
progress(`server up (pid ${server.process.pid}); creating ${userCount} users`)
const users = await createUsers(server, userCount)
const children = Array.from({ length: loaders }, () => forkLoad('private-chat-load', import.meta.url))
const slice = Math.ceil(users.length / loaders)
await Promise.all(children.map((child, i) => new Promise<void>((resolve, reject) => {
  child.once('message', () => resolve())
  child.once('exit', code => reject(new Error(`loader exited with ${code}`)))
  child.send({ t: 'start', host: '127.0.0.1', port: server.ports.ws, users: users.slice(i * slice, (i + 1) * slice) })
})))
progress(`${users.length} users connected over WebSocket by ${loaders} load processes`)

interface LoadResult { sent: number, delivered: number, receipts: number, refused: number, latencies: number[] }
const runStep = (rate: number, seconds: number): Promise<LoadResult[]> => Promise.all(children.map(child => new Promise<LoadResult>(resolve => {
  child.once('message', resolve)
  child.send({ t: 'step', rate: rate / loaders, seconds })
})))

const steps = values.steps!.split(',').map(Number)
if (Number(values.warmup) > 0) {
  progress(`warm-up: ${steps[0]} msg/s for ${values.warmup} s (not reported)`)
  await runStep(steps[0]!, Number(values.warmup))
}
const rows: Record<string, string | number>[] = []
const curve: { rate: number, p99Ms: number, lost: number }[] = []
for (const rate of steps) {
  const seconds = Number(values.seconds)
  progress(`step: ${rate} msg/s for ${seconds} s`)
  const before = { server: cpuSeconds(server.process.pid!), pg: postgresCpuSeconds(pgDir), loaders: children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) }
  const metricsBefore = await scrapeMetrics(server.httpUrl)
  const pgBefore = await pgStats.snapshot()
  const startedAt = Date.now()
  const results = await runStep(rate, seconds)
  const wall = (Date.now() - startedAt) / 1000
  const all = Float64Array.from(results.flatMap(r => r.latencies)).sort()
  const sum = (k: 'sent' | 'delivered' | 'receipts' | 'refused'): number => results.reduce((s, r) => s + r[k], 0)
  // Lost: sends without a receipt or without a delivery (the loaders wait 1.5 s after each step for stragglers).
  const lost = Math.max(sum('sent') - sum('receipts'), sum('sent') - sum('delivered'))
  const p99 = percentile(all, 0.99)
  curve.push({ rate, p99Ms: p99, lost })
  const row = {
    'offered/s': rate,
    'delivered/s': Math.round(sum('delivered') / seconds),
    lost,
    refused: sum('refused'),
    'p50 ms': percentile(all, 0.5).toFixed(1),
    'p99 ms': p99.toFixed(1),
    'max ms': (all[all.length - 1] ?? 0).toFixed(1),
    'server cpu %': Math.round((cpuSeconds(server.process.pid!) - before.server) / wall * 100),
    'postgres cpu %': Math.round((postgresCpuSeconds(pgDir) - before.pg) / wall * 100),
    'loaders cpu %': Math.round((children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) - before.loaders) / wall * 100),
    ...shardBreakdown(metricsBefore, await scrapeMetrics(server.httpUrl)),
    ...postgresColumns(pgBefore, await pgStats.snapshot(), sum('receipts'))
  }
  rows.push(row)
  console.log(JSON.stringify(row))
  if (sum('delivered') < sum('sent') * 0.9 || p99 > 1000) {
    progress('past the knee: stopping')
    break
  }
}
printResults('private-chat', rows, { rate: kneeOf(curve), unit: 'msg/s' })
for (const child of children) child.send({ t: 'exit' })
await pgStats.end()
await server.stop()
