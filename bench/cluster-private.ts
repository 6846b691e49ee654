// The private-chat load (bench/private-chat-load.ts) on
// one host, then split over two hosts on this machine sharing one Redis (started here) and one
// PostgreSQL (host A's embedded one; B gets DATABASE_URL). Each user is on host A or B by a hash of its
// index, so about half of the conversations cross hosts. Reports messages/s and p50/p99 for both
// set-ups, and the Redis CPU per 10,000 messages/s (redis-server CPU seconds / messages × 10,000).
// Options: --users N (default 10000), --steps r1,… msg/s (2000,5000,10000,15000,20000), --seconds S (10),
//          --loaders K (2), --shards N per host on the single host (2), --cluster-shards N per host (1).
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { freePort, readSecrets, startServer, type TestServer } from '../test/helpers/server.js'
import { killRedis, startRedis } from '../test/helpers/redis.js'
import { startS3, stopS3 } from '../test/helpers/s3.js'
import { createUsers, signTokens, type BenchUser } from './lib/population.js'
import { ask, endAll, forkLoad } from './lib/loaders.js'
import { cpuSeconds, percentile, postgresCpuSeconds, printMachine, printResults, progress } from './lib/report.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    steps: { type: 'string', default: '2000,5000,10000,15000,20000' },
    seconds: { type: 'string', default: '10' },
    loaders: { type: 'string', default: '2' },
    shards: { type: 'string', default: '2' },
    'cluster-shards': { type: 'string', default: '1' }
  }
})
const userCount = Number(values.users)
const loaderCount = Number(values.loaders)
const seconds = Number(values.seconds)
printMachine('cluster-private')
console.log(`# ${userCount} users over WebSocket, ${loaderCount} load processes; single host IMPLUS_SHARDS=${values.shards}, cluster IMPLUS_SHARDS=${values['cluster-shards']} per host`)

// As bench/private-chat-load.ts picks partners: from + 1 + k × 97 (k < 4), within a loader's slice.
const PARTNERS = 4
const PARTNER_STRIDE = 97
const hostOf = (i: number): number => (Math.imul(i + 1, 2654435761) >>> 31)

interface Result { sent: number, delivered: number, receipts: number, refused: number, latencies: number[] }
const rows: Record<string, string | number>[] = []

async function steps (mode: string, servers: TestServer[], pgDir: string, users: BenchUser[], portOf: (i: number) => number, redis: ChildProcess | null): Promise<void> {
  const children = Array.from({ length: loaderCount }, () => forkLoad('private-chat-load', import.meta.url))
  try {
    const slice = Math.ceil(users.length / loaderCount)
    await Promise.all(children.map((child, k) => {
      const mine = users.slice(k * slice, (k + 1) * slice)
      return ask(child, { t: 'start', host: '127.0.0.1', port: portOf(k * slice), users: mine, ports: mine.map((_, j) => portOf(k * slice + j)) })
    }))
    progress(`${mode}: ${users.length} users connected by ${loaderCount} load processes`)
    const serversCpu = (): number => servers.reduce((s, server) => s + cpuSeconds(server.process.pid!), 0)
    for (const rate of values.steps!.split(',').map(Number)) {
      progress(`${mode}: ${rate} msg/s for ${seconds} s`)
      const before = { servers: serversCpu(), pg: postgresCpuSeconds(pgDir), redis: redis === null ? 0 : cpuSeconds(redis.pid!), loaders: children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) }
      const started = Date.now()
      const results = await Promise.all(children.map(child => ask<Result>(child, { t: 'step', rate: rate / loaderCount, seconds })))
      const wall = (Date.now() - started) / 1000
      const all = Float64Array.from(results.flatMap(r => r.latencies)).sort()
      const sum = (k: 'sent' | 'delivered' | 'receipts' | 'refused'): number => results.reduce((s, r) => s + r[k], 0)
      const redisCpu = redis === null ? 0 : cpuSeconds(redis.pid!) - before.redis
      const row = {
        mode,
        'offered/s': rate,
        'delivered/s': Math.round(sum('delivered') / seconds),
        refused: sum('refused'),
        'p50 ms': percentile(all, 0.5).toFixed(1),
        'p99 ms': percentile(all, 0.99).toFixed(1),
        'max ms': (all[all.length - 1] ?? 0).toFixed(1),
        'servers cpu %': Math.round((serversCpu() - before.servers) / wall * 100),
        'postgres cpu %': Math.round((postgresCpuSeconds(pgDir) - before.pg) / wall * 100),
        'redis cpu %': redis === null ? '-' : Math.round(redisCpu / wall * 100),
        'redis cpu-s per 10k msgs': redis === null ? '-' : (redisCpu / Math.max(1, sum('receipts')) * 10_000).toFixed(3),
        'loaders cpu %': Math.round((children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) - before.loaders) / wall * 100)
      }
      rows.push(row)
      console.log(JSON.stringify(row))
      if (sum('delivered') < sum('sent') * 0.9 || percentile(all, 0.99) > 1000) {
        progress(`${mode}: past the knee`)
        break
      }
    }
  } finally {
    endAll(children)
  }
}

// ---- one host ----
{
  const pgPort = await freePort()
  const server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_RATE_LIMIT: '100000', IMPLUS_EMBEDDED_PG_PORT: String(pgPort), IMPLUS_SHARDS: values.shards! } })
  try {
    progress(`single host up (pid ${server.process.pid}); creating ${userCount} users`)
    const users = await createUsers(server, userCount)
    await steps('single host', [server], `${server.dataDir}/pg`, users, () => server.ports.ws!, null)
  } finally {
    await server.stop()
  }
}

// ---- two hosts, one Redis, one PostgreSQL ----
{
  const { child: redis, port: redisPort } = await startRedis()
  // Cluster mode needs shared storage for uploaded files (unused here).
  const s3 = await startS3()
  const pgPort = await freePort()
  const secret = randomBytes(32).toString('base64url')
  const common = { IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_RATE_LIMIT: '100000', IMPLUS_SHARDS: values['cluster-shards']!, REDIS_URL: `redis://127.0.0.1:${redisPort}`, IMPLUS_JWT_SECRET: secret, ...s3.env }
  const a = await startServer({ env: { ...common, IMPLUS_NODE_ID: 'host-a', IMPLUS_EMBEDDED_PG_PORT: String(pgPort) } })
  let b: TestServer | null = null
  try {
    const pgPassword = readSecrets(a.dataDir).embeddedPgPassword
    b = await startServer({ env: { ...common, IMPLUS_NODE_ID: 'host-b', DATABASE_URL: `postgres://postgres:${encodeURIComponent(pgPassword)}@127.0.0.1:${pgPort}/implus` } })
    progress(`cluster up: A pid ${a.process.pid}, B pid ${b.process.pid}, redis pid ${redis.pid}; creating ${userCount} users`)
    const users = signTokens(await createUsers(a, userCount), secret)
    const ports = [a.ports.ws!, b.ports.ws!]
    const slice = Math.ceil(userCount / loaderCount)
    let pairs = 0
    let cross = 0
    for (let k = 0; k < loaderCount; k++) {
      const n = Math.min(slice, userCount - k * slice)
      for (let from = 0; from < n; from++) {
        for (let p = 0; p < PARTNERS; p++) {
          pairs++
          if (hostOf(k * slice + from) !== hostOf(k * slice + (from + 1 + p * PARTNER_STRIDE) % n)) cross++
        }
      }
    }
    const onA = users.filter((_, i) => hostOf(i) === 0).length
    console.log(`# cluster: ${onA} users on host A, ${userCount - onA} on host B; ${(cross / Math.max(1, pairs) * 100).toFixed(0)} % of conversations cross hosts`)
    await steps('cluster, 2 hosts', [a, b], `${a.dataDir}/pg`, users, i => ports[hostOf(i)]!, redis)
  } finally {
    if (b !== null) await b.stop()
    await a.stop()
    await killRedis(redis)
    await stopS3(s3)
  }
}

printResults('cluster-private', rows)
console.log('# redis cpu-s per 10k msgs = CPU seconds of redis-server over the step / messages accepted (send receipts) × 10,000: the share of a core Redis needs per 10,000 messages/s')
