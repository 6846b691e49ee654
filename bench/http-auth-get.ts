// GET /users/info/{userId} with a Bearer token, with autocannon: the cost of an authenticated request
// (JWT check, cached token version, one indexed row). Each request takes the next user's token and
// asks for another user's info.
// Options: --users N (default 1000), --connections C (default 64), --pipelining P (default 1),
//          --seconds S (default 10), --shards N (default 1).
import { parseArgs } from 'node:util'
import { freePort, startServer } from '../test/helpers/server.js'
import { createUsers } from './lib/population.js'
import { cannon, cannonColumns, endAll, forkLoad } from './lib/loaders.js'
import { printMachine, printResults, progress } from './lib/report.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '1000' },
    connections: { type: 'string', default: '64' },
    pipelining: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '10' },
    shards: { type: 'string', default: '1' }
  }
})
printMachine('http-auth-get')
console.log(`# ${values.users} users, ${values.connections} connections, pipelining ${values.pipelining}`)

const server = await startServer({ env: { IMPLUS_EMBEDDED_PG_PORT: String(await freePort()), IMPLUS_SHARDS: values.shards!, IMPLUS_HTTP_RATE_LIMIT: '1000000' } })
const loader = forkLoad('http-load', import.meta.url)
try {
  progress(`server up (pid ${server.process.pid}); creating ${values.users} users`)
  const users = await createUsers(server, Number(values.users))
  progress(`autocannon: ${values.connections} connections for ${values.seconds} s`)
  const r = await cannon(loader, server.process.pid!, `${server.dataDir}/pg`, {
    url: server.httpUrl,
    connections: Number(values.connections),
    pipelining: Number(values.pipelining),
    seconds: Number(values.seconds),
    variants: users.map((u, i) => ({ method: 'GET', path: `/users/info/${users[(i * 7 + 1) % users.length]!.userId}`, headers: { authorization: `Bearer ${u.token}` } }))
  })
  printResults('http-auth-get', [{
    endpoint: 'GET /users/info/{id}',
    connections: Number(values.connections),
    pipelining: Number(values.pipelining),
    ...cannonColumns(r)
  }])
} finally {
  endAll([loader])
  await server.stop()
}
