// Logins per second over fresh connections, tokens issued beforehand (target ≥ 10,000/s): several load
// processes each keep `--concurrency` loops opening a connection from 127.0.0.x, logging in
// (2001 → 1001) and closing it. Reports logins/s, p50/p99 open+login latency, server and PostgreSQL CPU.
// Options: --users N (default 10000), --loaders K (2), --concurrency C loops per loader (200),
//          --seconds S per step (10), --steps c1,c2,… concurrency per loader per step (default: --concurrency),
//          --addresses A (8), --transport ws|tcp (ws), --shards N (1).
import { parseArgs } from 'node:util'
import { freePort, startServer } from '../test/helpers/server.js'
import { createUsers } from './lib/population.js'
import { ask, endAll, forkLoad } from './lib/loaders.js'
import { Histogram } from './lib/histogram.js'
import { cpuSeconds, postgresCpuSeconds, printMachine, printResults, progress } from './lib/report.js'
import { sourceAddress } from './lib/raw-client.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '10000' },
    loaders: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '200' },
    steps: { type: 'string' },
    seconds: { type: 'string', default: '10' },
    addresses: { type: 'string', default: '8' },
    transport: { type: 'string', default: 'ws' },
    shards: { type: 'string', default: '1' }
  }
})
const transport = values.transport as 'ws' | 'tcp'
if (transport !== 'ws' && transport !== 'tcp') throw new Error('--transport must be ws or tcp')
const loaderCount = Number(values.loaders)
const addressCount = Number(values.addresses)
const steps = (values.steps ?? values.concurrency!).split(',').map(Number)
printMachine('login-rate')
console.log(`# ${transport === 'ws' ? 'WebSocket' : 'TCP'}, ${values.users} users with tokens, ${loaderCount} load processes, source addresses 127.0.0.2–127.0.0.${1 + addressCount}`)

const server = await startServer({ env: { IMPLUS_EMBEDDED_PG_PORT: String(await freePort()), IMPLUS_SHARDS: values.shards!, IMPLUS_RATE_LIMIT: '1000000' } })
const pid = server.process.pid!
const pgDir = `${server.dataDir}/pg`
const port = transport === 'ws' ? server.ports.ws! : server.ports.tcp!
const children = Array.from({ length: loaderCount }, () => forkLoad('login-rate-load', import.meta.url))
const rows: Record<string, string | number>[] = []
try {
  progress(`server up (pid ${pid}); creating ${values.users} users`)
  const users = await createUsers(server, Number(values.users))
  const slice = Math.ceil(users.length / loaderCount)
  for (const concurrency of steps) {
    progress(`${loaderCount} × ${concurrency} loops for ${values.seconds} s`)
    const before = { server: cpuSeconds(pid), pg: postgresCpuSeconds(pgDir), loaders: children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) }
    const started = Date.now()
    const results = await Promise.all(children.map((child, i) => ask<{ logins: number, failed: number, errors: Record<string, number>, seconds: number, hist: { counts: number[], count: number, max: number } }>(child, {
      t: 'run',
      host: '127.0.0.1',
      port,
      transport,
      users: users.slice(i * slice, (i + 1) * slice),
      addresses: Array.from({ length: addressCount }, (_, k) => sourceAddress(k + i, addressCount)),
      seconds: Number(values.seconds),
      concurrency
    })))
    const wall = (Date.now() - started) / 1000
    const hist = Histogram.merge(results.map(r => r.hist))
    const logins = results.reduce((s, r) => s + r.logins, 0)
    const errors: Record<string, number> = {}
    for (const r of results) for (const [k, n] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + n
    rows.push({
      'in flight': loaderCount * concurrency,
      logins,
      failed: results.reduce((s, r) => s + r.failed, 0),
      'logins/s': Math.round(logins / Math.max(...results.map(r => r.seconds))),
      'p50 ms': hist.percentile(0.5).toFixed(1),
      'p99 ms': hist.percentile(0.99).toFixed(1),
      'max ms': hist.max.toFixed(1),
      'server cpu %': Math.round((cpuSeconds(pid) - before.server) / wall * 100),
      'postgres cpu %': Math.round((postgresCpuSeconds(pgDir) - before.pg) / wall * 100),
      'loaders cpu %': Math.round((children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) - before.loaders) / wall * 100)
    })
    console.log(JSON.stringify(rows.at(-1)))
    if (Object.keys(errors).length > 0) console.log(`# errors: ${JSON.stringify(errors)}`)
    // Closed sockets linger in TIME_WAIT: let them go before the next step.
    await new Promise(resolve => setTimeout(resolve, 1000))
  }
  printResults('login-rate', rows)
  console.log('# latency = connect + upgrade (WebSocket) + 2001 → 1001, measured in the load processes')
} finally {
  endAll(children)
  await server.stop()
}
