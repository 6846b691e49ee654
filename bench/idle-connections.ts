// Idle authenticated connections on one server: RSS per connection and time to connect them all; a
// reconnect storm (every client closes at once, then all reconnect at once); heartbeat round trips/s
// with every connection heart-beating for a fixed time at a bounded pipeline depth.
// The clients are raw sockets (lib/raw-client.ts) in several load processes, spread over 127.0.0.x
// source addresses: one process holds at most ~19,000 sockets (open-file limit 20,000).
// Options: --connections N (default 19000), --loaders K (4), --addresses A source addresses (8),
//          --transport ws|tcp (ws), --concurrency C connects in flight per loader at first (500),
//          --heartbeat-seconds S (10), --depth D heartbeats in flight per connection (1), --shards N (1).
import { parseArgs } from 'node:util'
import { freePort, startServer } from '../test/helpers/server.js'
import { createUsers } from './lib/population.js'
import { ask, endAll, forkLoad } from './lib/loaders.js'
import { Histogram } from './lib/histogram.js'
import { cpuSeconds, printMachine, printResults, progress, rssBytes, scrapeMetrics } from './lib/report.js'
import { sourceAddress } from './lib/raw-client.js'

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '19000' },
    loaders: { type: 'string', default: '4' },
    addresses: { type: 'string', default: '8' },
    transport: { type: 'string', default: 'ws' },
    concurrency: { type: 'string', default: '500' },
    'heartbeat-seconds': { type: 'string', default: '10' },
    depth: { type: 'string', default: '1' },
    shards: { type: 'string', default: '1' },
    // Seconds to let the server go idle before reading its RSS: logins leave garbage that V8 frees
    // (and the young generation shrinks) only once allocation stops.
    settle: { type: 'string', default: '15' }
  }
})
const total = Number(values.connections)
const loaderCount = Number(values.loaders)
const addressCount = Number(values.addresses)
const transport = values.transport as 'ws' | 'tcp'
if (transport !== 'ws' && transport !== 'tcp') throw new Error('--transport must be ws or tcp')
if (total / loaderCount > 18_500) throw new Error(`--loaders ${loaderCount}: ${Math.ceil(total / loaderCount)} sockets per load process is over the ~19,000 the open-file limit allows`)
printMachine('idle-connections')
console.log(`# ${total} ${transport === 'ws' ? 'WebSocket' : 'TCP'} connections, ${loaderCount} load processes, source addresses 127.0.0.2–127.0.0.${1 + addressCount}`)

type Hist = { counts: number[], count: number, max: number }
interface Connected { ok: number, failed: number, retries: number, ms: number, hist: Hist }

const server = await startServer({
  env: {
    IMPLUS_EMBEDDED_PG_PORT: String(await freePort()),
    IMPLUS_SHARDS: values.shards!,
    IMPLUS_RATE_LIMIT: '1000000'
  }
})
const pid = server.process.pid!
const port = transport === 'ws' ? server.ports.ws! : server.ports.tcp!
const children = Array.from({ length: loaderCount }, () => forkLoad('idle-connections-load', import.meta.url))
const rows: Record<string, string | number>[] = []
const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(1)

interface ConnectRun { ok: number, failed: number, retries: number, wall: number, hist: Histogram, cpu: number }

/** A table row for one connect phase, with the server's RSS growth per connection it held. */
function connectRow (phase: string, run: ConnectRun, rssBefore: number, rssAfter: number): Record<string, string | number> {
  return {
    phase,
    connections: run.ok,
    failed: run.failed,
    retries: run.retries,
    seconds: run.wall.toFixed(2),
    'logins/s': Math.round(run.ok / run.wall),
    'p50 ms': run.hist.percentile(0.5).toFixed(1),
    'p99 ms': run.hist.percentile(0.99).toFixed(1),
    'server cpu %': Math.round(run.cpu),
    'server RSS MiB': `${mib(rssBefore)} → ${mib(rssAfter)}`,
    'KB/conn': ((rssAfter - rssBefore) / Math.max(1, run.ok) / 1024).toFixed(2)
  }
}

async function connected (concurrency: number): Promise<ConnectRun> {
  const cpu = cpuSeconds(pid)
  const started = Date.now()
  const results = await Promise.all(children.map(child => ask<Connected>(child, { t: 'connect', concurrency })))
  const wall = (Date.now() - started) / 1000
  const sum = (k: 'ok' | 'failed' | 'retries'): number => results.reduce((s, r) => s + r[k], 0)
  return { ok: sum('ok'), failed: sum('failed'), retries: sum('retries'), wall, hist: Histogram.merge(results.map(r => r.hist)), cpu: (cpuSeconds(pid) - cpu) / wall * 100 }
}

/** The server's own count of open connections (its /metrics): no event says when it has seen every close. */
async function serverConnections (): Promise<number> {
  return (await scrapeMetrics(server.httpUrl)).get('implus_connections') ?? -1
}

try {
  progress(`server up (pid ${pid}); creating ${total} users`)
  const users = await createUsers(server, total)
  const slice = Math.ceil(total / loaderCount)
  await Promise.all(children.map((child, i) => ask(child, {
    t: 'init',
    host: '127.0.0.1',
    port,
    transport,
    users: users.slice(i * slice, (i + 1) * slice),
    // Each loader gets its own addresses when there are enough, so tuples never collide across loaders.
    addresses: Array.from({ length: Math.max(1, Math.floor(addressCount / loaderCount)) }, (_, k) => sourceAddress(i * Math.max(1, Math.floor(addressCount / loaderCount)) + k, addressCount))
  })))
  await new Promise(resolve => setTimeout(resolve, 1000))
  const rssBefore = rssBytes(pid)

  progress(`connecting ${total} (${values.concurrency} in flight per loader)`)
  const first = await connected(Number(values.concurrency))
  await new Promise(resolve => setTimeout(resolve, Number(values.settle) * 1000))
  const rssAfter = rssBytes(pid)
  const held = await serverConnections()
  const perConn = (rssAfter - rssBefore) / Math.max(1, first.ok) / 1024
  rows.push(connectRow('connect all', first, rssBefore, rssAfter))
  console.log(JSON.stringify(rows.at(-1)))

  progress('reconnect storm: closing every connection at once')
  await Promise.all(children.map(child => ask(child, { t: 'close' })))
  const closeDeadline = Date.now() + 30_000
  while (await serverConnections() > 0 && Date.now() < closeDeadline) await new Promise(resolve => setTimeout(resolve, 100))
  const rssClosed = rssBytes(pid)
  progress('reconnect storm: reconnecting all at once')
  const storm = await connected(Number.MAX_SAFE_INTEGER)
  const rssStorm = rssBytes(pid)
  rows.push(connectRow('reconnect storm', storm, rssClosed, rssStorm))
  console.log(JSON.stringify(rows.at(-1)))

  const seconds = Number(values['heartbeat-seconds'])
  progress(`heartbeats: every connection, depth ${values.depth}, for ${seconds} s`)
  const cpu = cpuSeconds(pid)
  const loadersCpu = children.reduce((s, c) => s + cpuSeconds(c.pid!), 0)
  const started = Date.now()
  const beats = await Promise.all(children.map(child => ask<{ count: number, seconds: number, hist: Hist }>(child, { t: 'heartbeat', seconds, depth: Number(values.depth) })))
  const wall = (Date.now() - started) / 1000
  const hist = Histogram.merge(beats.map(b => b.hist))
  const count = beats.reduce((s, b) => s + b.count, 0)
  const elapsed = Math.max(...beats.map(b => b.seconds))
  rows.push({
    phase: `heartbeats ×${values.depth} for ${seconds}s`,
    connections: storm.ok,
    failed: 0,
    retries: 0,
    seconds: elapsed.toFixed(2),
    'logins/s': '-',
    'p50 ms': hist.percentile(0.5).toFixed(1),
    'p99 ms': hist.percentile(0.99).toFixed(1),
    'server cpu %': Math.round((cpuSeconds(pid) - cpu) / wall * 100),
    'server RSS MiB': mib(rssBytes(pid)),
    'KB/conn': `${Math.round(count / elapsed)} round trips/s`
  })
  console.log(JSON.stringify(rows.at(-1)))
  console.log(`# heartbeat round trips/s: ${Math.round(count / elapsed)} (load processes at ${Math.round((children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) - loadersCpu) / wall * 100)} % CPU)`)
  printResults('idle-connections', rows)
  console.log(`# server held ${held} connections after the first connect; RSS per connection ${perConn.toFixed(2)} KB (target ≤ 3 KB)`)
  const for100k = (rssBefore + perConn * 1024 * 100_000) / 2 ** 20
  console.log(`# 100,000 on one host: ~${for100k.toFixed(0)} MiB server RSS at this rate; the server needs an open-file limit above 100,000 (LimitNOFILE/ulimit -n ≥ 110000),` +
    ' the clients ≥ 6 processes at 19,000 or one with a raised limit, and ≥ 4 source addresses (each gives ~28,000 ephemeral ports to one server port: net.ipv4.ip_local_port_range)' +
    '; for storms raise net.core.somaxconn and the listen backlog, and net.ipv4.tcp_max_syn_backlog.')
} finally {
  endAll(children)
  await server.stop()
}
