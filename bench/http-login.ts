// POST /users/login with autocannon: token issue, bound by scrypt (each login verifies a password hash
// made at the server's IMPLUS_SCRYPT_COST, off the main thread on the password pool).
// Options: --users N registered through the API (default 64), --connections C (default 32),
//          --seconds S (default 10), --scrypt-cost K (default 15, the server's default), --shards N (1).
import { parseArgs } from 'node:util'
import { api, freePort, startServer } from '../test/helpers/server.js'
import { cannon, cannonColumns, endAll, forkLoad } from './lib/loaders.js'
import { printMachine, printResults, progress } from './lib/report.js'

const { values } = parseArgs({
  options: {
    users: { type: 'string', default: '64' },
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '10' },
    'scrypt-cost': { type: 'string', default: '15' },
    shards: { type: 'string', default: '1' }
  }
})
const userCount = Number(values.users)
const cost = values['scrypt-cost']!
printMachine('http-login')
console.log(`# IMPLUS_SCRYPT_COST=${cost} (N = 2^${cost}, r = 8, p = 1), ${userCount} users, ${values.connections} connections`)

const server = await startServer({ env: { IMPLUS_EMBEDDED_PG_PORT: String(await freePort()), IMPLUS_SCRYPT_COST: cost, IMPLUS_SHARDS: values.shards! } })
const loader = forkLoad('http-load', import.meta.url)
try {
  // Registered through the API so each hash is made at the server's cost (bench/lib/population.ts uses cost 10).
  progress(`server up (pid ${server.process.pid}); registering ${userCount} users through POST /users/register`)
  const password = 'bench-password-1'
  const ids = Array.from({ length: userCount }, (_, i) => String(2_000_000 + i))
  for (let at = 0; at < ids.length; at += 8) {
    await Promise.all(ids.slice(at, at + 8).map(async userId => {
      const res = await api(server, 'POST', '/users/register', { userId, username: `bench-${userId}`, password })
      if (res.status !== 200) throw new Error(`register ${userId}: ${res.status} ${JSON.stringify(res.body)}`)
    }))
  }
  progress(`autocannon: ${values.connections} connections for ${values.seconds} s`)
  const r = await cannon(loader, server.process.pid!, `${server.dataDir}/pg`, {
    url: server.httpUrl,
    connections: Number(values.connections),
    pipelining: 1,
    seconds: Number(values.seconds),
    variants: ids.map(userId => ({ method: 'POST', path: '/users/login', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId, password }) }))
  })
  printResults('http-login', [{
    endpoint: 'POST /users/login',
    'scrypt cost': Number(cost),
    connections: Number(values.connections),
    ...cannonColumns(r)
  }])
} finally {
  endAll([loader])
  await server.stop()
}
