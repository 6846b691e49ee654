// Sustained private messages per second, each persisted, delivered and ACKed,
// with send → delivery latency, at stepped rates up to the knee.
// Options: --users N (default 10000), --steps r1,r2,… (msg/s), --seconds S per step, --loaders K.
import { forkLoad } from './lib/loaders.js'
import { parseArgs } from 'node:util'
import { startServer, freePort } from '../test/helpers/server.js'
import { createUsers } from './lib/population.js'
import { cpuSeconds, postgresCpuSeconds, percentile, printMachine, printResults, progress, scrapeMetrics, shardBreakdown } from './lib/report.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    steps: { type: 'string', default: '2000,5000,10000,15000,20000,25000' },
    seconds: { type: 'string', default: '10' },
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
const server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_RATE_LIMIT: '100000', IMPLUS_EMBEDDED_PG_PORT: String(pgPort), IMPLUS_SHARDS: values.shards! }, nodeArgs: values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] })
const pgDir = `${server.dataDir}/pg`
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

const rows: Record<string, string | number>[] = []
for (const rate of values.steps!.split(',').map(Number)) {
  const seconds = Number(values.seconds)
  progress(`step: ${rate} msg/s for ${seconds} s`)
  const before = { server: cpuSeconds(server.process.pid!), pg: postgresCpuSeconds(pgDir), loaders: children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) }
  const metricsBefore = await scrapeMetrics(server.httpUrl)
  const startedAt = Date.now()
  const results = await Promise.all(children.map(child => new Promise<{ sent: number, delivered: number, receipts: number, refused: number, latencies: number[] }>(resolve => {
    child.once('message', resolve)
    child.send({ t: 'step', rate: rate / loaders, seconds })
  })))
  const wall = (Date.now() - startedAt) / 1000
  const all = Float64Array.from(results.flatMap(r => r.latencies)).sort()
  const sum = (k: 'sent' | 'delivered' | 'receipts' | 'refused'): number => results.reduce((s, r) => s + r[k], 0)
  const row = {
    'offered/s': rate,
    'delivered/s': Math.round(sum('delivered') / seconds),
    receipts: sum('receipts'),
    refused: sum('refused'),
    'p50 ms': percentile(all, 0.5).toFixed(1),
    'p99 ms': percentile(all, 0.99).toFixed(1),
    'max ms': (all[all.length - 1] ?? 0).toFixed(1),
    'server cpu %': Math.round((cpuSeconds(server.process.pid!) - before.server) / wall * 100),
    'postgres cpu %': Math.round((postgresCpuSeconds(pgDir) - before.pg) / wall * 100),
    'loaders cpu %': Math.round((children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) - before.loaders) / wall * 100),
    ...shardBreakdown(metricsBefore, await scrapeMetrics(server.httpUrl))
  }
  rows.push(row)
  console.log(JSON.stringify(row))
  if (sum('delivered') < sum('sent') * 0.9 || percentile(all, 0.99) > 1000) {
    progress('past the knee: stopping')
    break
  }
}
printResults('private-chat', rows)
for (const child of children) child.send({ t: 'exit' })
await server.stop()
