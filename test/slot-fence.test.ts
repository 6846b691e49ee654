// Node slots in cluster mode: a lease in Redis plus a PostgreSQL advisory lock (src/cluster/slot-fence.ts).
// Real Redis and real PostgreSQL; the hosts are Cluster instances that join and never start heartbeats,
// so nothing renews a lease behind the test's back.
import { Redis } from 'ioredis'
import { pino } from 'pino'
import t from 'tap'
import { Cluster } from '../src/cluster/cluster.js'
import { SlotFence } from '../src/cluster/slot-fence.js'
import { startTestDatabase, type TestDatabase } from './helpers/postgres.js'
import { killAllRedis, startRedis, type RedisServer } from './helpers/redis.js'

const silent = pino({ level: 'silent' })
let database: TestDatabase
let redis: RedisServer
const connections: Redis[] = []

t.before(async () => {
  database = await startTestDatabase('slot-fence')
  redis = await startRedis()
})
t.teardown(async () => {
  for (const c of connections) c.disconnect()
  await database?.close()
  await killAllRedis()
})

function connect (): Redis {
  const c = new Redis(redis.url)
  connections.push(c)
  return c
}

async function joined (nodeId: string): Promise<Cluster> {
  const handlers = { remoteDelivery: () => {}, event: () => {}, slotLost: () => { throw new Error(`${nodeId} lost its slot`) } }
  const host = new Cluster(nodeId, 2, connect(), connect(), handlers, new SlotFence(database.sql), silent)
  await host.join()
  return host
}

t.test('after Redis lost its data, a joining host cannot take a slot a live host holds; a stopped or dead host frees it', async t => {
  const admin = connect()
  const a = await joined('host-a')
  t.equal(a.slot, 0, 'the first host takes slot 0')

  t.equal(await admin.flushall(), 'OK', 'Redis loses every lease')
  const b = await joined('host-b')
  t.equal(b.slot, 1, 'the next host skips slot 0: its lease is gone but host A\'s lock is not')

  await a.stop()
  const c = await joined('host-c')
  t.equal(c.slot, 0, 'a host that stopped gave slot 0 up (lease and lock)')

  // Host C dies: its PostgreSQL session ends, and with it the lock; its lease expires with Redis's data.
  const [holder] = await database.sql<{ pid: number }[]>`select pid from pg_locks where locktype = 'advisory' and objid = 0 and granted`
  t.ok(holder !== undefined, 'host C\'s session holds the lock of slot 0')
  // With a timeout it returns once the backend has gone (and its locks with it), not once it was signalled:
  // without one, host D could join before the lock was released (failed once on a loaded machine).
  const [{ terminated }] = await database.sql<[{ terminated: boolean }]>`select pg_terminate_backend(${holder!.pid}, 30000) as terminated`
  t.ok(terminated, 'host C\'s session is gone')
  await admin.flushall()
  const d = await joined('host-d')
  t.equal(d.slot, 0, 'a dead host\'s slot is free again')

  await Promise.all([b.stop(), d.stop()])
  const [{ count }] = await database.sql<{ count: string }[]>`select count(*) from pg_locks where locktype = 'advisory'`
  t.equal(count, '0', 'stopped hosts leave no slot locks behind')
})
