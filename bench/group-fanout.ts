// Group fan-out. Part 1: one group of --members (1,000) members, all online over WebSocket in several
// load processes, one sender at stepped message rates: notification deliveries/s (1007 frames received
// across all members, the sender's own copy included), p50/p99 send → notification latency per delivery
// and of the slowest member per message. Target: ≥ 500,000 deliveries/s, p99 < 50 ms.
// Part 2: a --small-members (200) group with --senders (20) concurrent senders at stepped total rates:
// messages/s, deliveries/s, p99.
// Both parts print p50/p99/max per step and the knee: the highest rate with p99 < 100 ms and nothing
// lost. The per-connection rate limit is raised (IMPLUS_RATE_LIMIT=1000000): this measures the server.
// Options: --members N, --loaders K (2), --steps r1,… msg/s (100,200,500,750,1000), --seconds S (10),
//          --small-members N, --senders N, --small-steps r1,… total msg/s (500,1000,2000,4000), --shards N (2).
import { parseArgs } from 'node:util'
import { api, freePort, startServer, type TestServer } from '../test/helpers/server.js'
import { createUsers, type BenchUser } from './lib/population.js'
import { ask, endAll, forkLoad } from './lib/loaders.js'
import { Histogram } from './lib/histogram.js'
import { cpuSeconds, kneeOf, percentile, postgresCpuSeconds, printMachine, printResults, progress } from './lib/report.js'

const { values } = parseArgs({
  options: {
    members: { type: 'string', default: '1000' },
    loaders: { type: 'string', default: '2' },
    steps: { type: 'string', default: '100,200,500,750,1000' },
    seconds: { type: 'string', default: '10' },
    'small-members': { type: 'string', default: '200' },
    senders: { type: 'string', default: '20' },
    'small-steps': { type: 'string', default: '500,1000,2000,4000' },
    shards: { type: 'string', default: '2' },
    // Writes V8 CPU profiles of the server's threads (node --cpu-prof) into this folder.
    profile: { type: 'string' }
  }
})
const members = Number(values.members)
const smallMembers = Math.min(members, Number(values['small-members']))
const senderCount = Math.min(smallMembers, Number(values.senders))
const loaderCount = Number(values.loaders)
const seconds = Number(values.seconds)
printMachine('group-fanout')
const RATE_LIMIT = '1000000'
console.log(`# ${members}-member group, 1 sender; ${smallMembers}-member group, ${senderCount} senders; ${loaderCount} load processes, WebSocket, IMPLUS_SHARDS=${values.shards}; per-connection rate limit raised to IMPLUS_RATE_LIMIT=${RATE_LIMIT} msg/s`)

type Hist = { counts: number[], count: number, max: number }
interface StepResult { sent: number, receipts: number, refused: number, deliveries: number, hist: Hist, perMessage?: [string, number][] }

async function createGroup (server: TestServer, owner: BenchUser, others: BenchUser[], name: string): Promise<string> {
  const first = others.slice(0, 999)
  const res = await api(server, 'POST', '/api/conversations/create', { conversationName: name, conversationType: 'GROUP', members: first.map(u => u.userId) }, owner.token)
  if (res.status !== 200) throw new Error(`create ${name}: ${res.status} ${JSON.stringify(res.body)}`)
  const conversationId = res.body.data as string
  for (let at = 999; at < others.length; at += 1000) {
    const more = await api(server, 'POST', `/api/groups/${conversationId}/members`, { userIds: others.slice(at, at + 1000).map(u => u.userId) }, owner.token)
    if (more.status !== 200) throw new Error(`add members to ${name}: ${more.status} ${JSON.stringify(more.body)}`)
  }
  return conversationId
}

const server = await startServer({ env: { IMPLUS_EMBEDDED_PG_PORT: String(await freePort()), IMPLUS_SHARDS: values.shards!, IMPLUS_RATE_LIMIT: RATE_LIMIT }, nodeArgs: values.profile === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${values.profile}`] })
const pid = server.process.pid!
const pgDir = `${server.dataDir}/pg`
const children = Array.from({ length: loaderCount }, () => forkLoad('group-fanout-load', import.meta.url))
try {
  progress(`server up (pid ${pid}); creating ${members} users and two groups`)
  const users = await createUsers(server, members)
  const big = await createGroup(server, users[0]!, users.slice(1), 'fanout-1000')
  const small = await createGroup(server, users[0]!, users.slice(1, smallMembers), 'fanout-200')
  // User i is held by loader i mod K, so the senders of part 2 spread over the loaders.
  await Promise.all(children.map((child, k) => ask(child, { t: 'start', host: '127.0.0.1', port: server.ports.ws, users: users.filter((_, i) => i % loaderCount === k) })))
  progress(`${members} members online in ${loaderCount} load processes`)

  const curves = new Map([[big, [] as { rate: number, p99Ms: number, lost: number }[]], [small, []]])
  async function run (conversationId: string, groupSize: number, senders: string[], rate: number, perMessage: boolean): Promise<Record<string, string | number>> {
    const before = { server: cpuSeconds(pid), pg: postgresCpuSeconds(pgDir), loaders: children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) }
    const started = Date.now()
    const results = await Promise.all(children.map((child, k) => {
      const mine = senders.filter(id => users.findIndex(u => u.userId === id) % loaderCount === k)
      return ask<StepResult>(child, { t: 'step', conversationId, senders: mine, rate: rate * mine.length / senders.length, seconds, perMessage })
    }))
    const wall = (Date.now() - started) / 1000
    const sum = (key: 'sent' | 'receipts' | 'refused' | 'deliveries'): number => results.reduce((s, r) => s + r[key], 0)
    const hist = Histogram.merge(results.map(r => r.hist))
    // Lost: sends without a receipt, and notifications that never reached a member.
    const lost = (sum('sent') - sum('receipts')) + Math.max(0, sum('sent') * groupSize - sum('deliveries'))
    curves.get(conversationId)!.push({ rate, p99Ms: hist.percentile(0.99), lost })
    const row: Record<string, string | number> = {
      group: groupSize,
      senders: senders.length,
      'offered msg/s': rate,
      'msg/s': Math.round(sum('receipts') / seconds),
      refused: sum('refused'),
      'deliveries/s': Math.round(sum('deliveries') / seconds),
      'delivered %': (sum('deliveries') / Math.max(1, sum('sent') * groupSize) * 100).toFixed(1),
      lost,
      'p50 ms': hist.percentile(0.5).toFixed(1),
      'p99 ms': hist.percentile(0.99).toFixed(1),
      'max ms': hist.max.toFixed(1)
    }
    if (perMessage) {
      const slowest = new Map<string, number>()
      for (const r of results) for (const [key, ms] of r.perMessage ?? []) slowest.set(key, Math.max(ms, slowest.get(key) ?? 0))
      const last = Float64Array.from(slowest.values()).sort()
      row['last member p50 ms'] = percentile(last, 0.5).toFixed(1)
      row['last member p99 ms'] = percentile(last, 0.99).toFixed(1)
    }
    row['server cpu %'] = Math.round((cpuSeconds(pid) - before.server) / wall * 100)
    row['postgres cpu %'] = Math.round((postgresCpuSeconds(pgDir) - before.pg) / wall * 100)
    row['loaders cpu %'] = Math.round((children.reduce((s, c) => s + cpuSeconds(c.pid!), 0) - before.loaders) / wall * 100)
    console.log(JSON.stringify(row))
    return row
  }
  const pastKnee = (row: Record<string, string | number>): boolean => Number(row['delivered %']) < 90 || Number(row['p99 ms']) > 1000

  const part1: Record<string, string | number>[] = []
  for (const rate of values.steps!.split(',').map(Number)) {
    progress(`part 1: ${members}-member group, 1 sender, ${rate} msg/s for ${seconds} s`)
    const row = await run(big, members, [users[0]!.userId], rate, true)
    part1.push(row)
    if (pastKnee(row)) { progress('past the knee: stopping part 1'); break }
  }
  const part2: Record<string, string | number>[] = []
  const senders = users.slice(0, senderCount).map(u => u.userId)
  for (const rate of values['small-steps']!.split(',').map(Number)) {
    progress(`part 2: ${smallMembers}-member group, ${senderCount} senders, ${rate} msg/s for ${seconds} s`)
    const row = await run(small, smallMembers, senders, rate, false)
    part2.push(row)
    if (pastKnee(row)) { progress('past the knee: stopping part 2'); break }
  }
  console.log(`# part 1: one message to ${members} online members (latency per delivery, and of the last member to get each message)`)
  const knee1 = kneeOf(curves.get(big)!)
  printResults('group-fanout', part1, { rate: knee1 === null ? null : knee1 * members, unit: knee1 === null ? 'deliveries/s' : `deliveries/s (${knee1} msg/s to ${members} members)` })
  console.log(`# part 2: ${senderCount} concurrent senders in a ${smallMembers}-member group (msg/s = send receipts/s)`)
  printResults('group-fanout-concurrent', part2, { rate: kneeOf(curves.get(small)!), unit: `msg/s (${senderCount} senders, ${smallMembers} members)` })
} finally {
  endAll(children)
  await server.stop()
}
