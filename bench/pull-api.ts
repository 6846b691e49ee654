// Pull API throughput with autocannon, after seeding messages over WebSocket (bench/pull-api-load.ts):
// POST /api/group-messages/pull (one group, from varying lastSeqs) and POST /api/messages/pull-batch
// (each caller's userSeq stream, from varying fromSeqs); requests/s, p50/p99, errors, server CPU.
// Options: --users N members and callers (default 20), --messages M group and private messages sent by
//          each user (default 500), --limit L messages per pull (50), --connections C (64),
//          --seconds S (10), --shards N (2).
import { parseArgs } from 'node:util'
import { api, freePort, startServer } from '../test/helpers/server.js'
import { createUsers } from './lib/population.js'
import { ask, cannon, cannonColumns, endAll, forkLoad } from './lib/loaders.js'
import { printMachine, printResults, progress } from './lib/report.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '20' },
    messages: { type: 'string', default: '500' },
    limit: { type: 'string', default: '50' },
    connections: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '10' },
    shards: { type: 'string', default: '2' }
  }
})
const userCount = Number(values.users)
const perUser = Number(values.messages)
const limit = Number(values.limit)
printMachine('pull-api')
console.log(`# ${userCount} users in one group, each sent ${perUser} group + ${perUser} private messages; limit ${limit}, ${values.connections} connections`)

const server = await startServer({ env: { IMPLUS_EMBEDDED_PG_PORT: String(await freePort()), IMPLUS_SHARDS: values.shards!, IMPLUS_RATE_LIMIT: '1000000', IMPLUS_HTTP_RATE_LIMIT: '1000000', IMPLUS_PRIVATE_CHAT: 'open' } })
const pid = server.process.pid!
const pgDir = `${server.dataDir}/pg`
const seeder = forkLoad('pull-api-load', import.meta.url)
const loader = forkLoad('http-load', import.meta.url)
try {
  progress(`server up (pid ${pid}); creating ${userCount} users and a group`)
  const users = await createUsers(server, userCount)
  const created = await api(server, 'POST', '/api/conversations/create', { conversationName: 'pull', conversationType: 'GROUP', members: users.slice(1).map(u => u.userId) }, users[0]!.token)
  if (created.status !== 200) throw new Error(`create: ${created.status} ${JSON.stringify(created.body)}`)
  const group = created.body.data as string
  progress(`seeding ${userCount * perUser * 2} messages`)
  await ask(seeder, { t: 'seed', host: '127.0.0.1', port: server.ports.ws, users, conversationId: group, count: perUser })
  const groupMessages = userCount * perUser
  // Each user received perUser private messages and sent perUser: its userSeq stream holds 2 × perUser.
  const stream = 2 * perUser
  const json = { 'content-type': 'application/json' }
  const runs = [
    {
      endpoint: 'POST /api/group-messages/pull',
      variants: users.flatMap((u, i) => Array.from({ length: 16 }, (_, k) => ({ method: 'POST', path: '/api/group-messages/pull', headers: { ...json, authorization: `Bearer ${u.token}` }, body: JSON.stringify({ conversations: { [group]: ((i * 16 + k) * 7919) % Math.max(1, groupMessages - limit) }, limit }) })))
    },
    {
      endpoint: 'POST /api/messages/pull-batch',
      variants: users.flatMap((u, i) => Array.from({ length: 16 }, (_, k) => ({ method: 'POST', path: '/api/messages/pull-batch', headers: { ...json, authorization: `Bearer ${u.token}` }, body: JSON.stringify({ fromSeq: 1 + ((i * 16 + k) * 131) % Math.max(1, stream - limit), limit }) })))
    }
  ]
  const rows: Record<string, string | number>[] = []
  for (const run of runs) {
    progress(`autocannon ${run.endpoint}: ${values.connections} connections for ${values.seconds} s`)
    const r = await cannon(loader, pid, pgDir, { url: server.httpUrl, connections: Number(values.connections), pipelining: 1, seconds: Number(values.seconds), variants: run.variants })
    rows.push({
      endpoint: run.endpoint,
      limit,
      ...cannonColumns(r)
    })
    console.log(JSON.stringify(rows.at(-1)))
  }
  printResults('pull-api', rows)
} finally {
  endAll([seeder, loader])
  await server.stop()
}
