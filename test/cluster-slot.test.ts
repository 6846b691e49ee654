// Cluster mode: a host's node slot (the host bits of every message id it makes) is a lease in Redis,
// fenced by a PostgreSQL lock (test/slot-fence.test.ts). Should another host still end up holding
// the lease (Redis lost its data while the holder's database session was also cut), both would make the
// same ids: the host that finds its slot taken must stop (exit 1, so a supervisor restarts it with a
// free slot) rather than go on. Here the other host's claim is written into Redis directly.
import { Redis } from 'ioredis'
import t from 'tap'
import { startServer } from './helpers/server.js'
import { killAllRedis, startRedis } from './helpers/redis.js'
import { startS3, stopS3 } from './helpers/s3.js'

t.teardown(() => killAllRedis())

t.test('a host whose slot another host claimed while Redis was empty stops with exit code 1', async t => {
  const redis = await startRedis()
  const s3 = await startS3()
  t.teardown(() => stopS3(s3))
  const server = await startServer({ env: { ...s3.env, REDIS_URL: redis.url, IMPLUS_JWT_SECRET: 'cluster-slot-test-secret-0123456789', IMPLUS_NODE_ID: 'host-slot' } })
  t.teardown(() => server.stop())
  const { slot } = server.logs.find(l => l.msg === 'implus listening')!.cluster as { slot: number }
  const admin = new Redis(redis.url)
  t.teardown(() => admin.disconnect())
  t.equal(await admin.get(`implus:node-slot:${slot}`), 'host-slot', 'the host holds its slot')

  // Redis loses everything; another host starting at that moment finds the slot free and takes it.
  await admin.flushall()
  t.equal(await admin.set(`implus:node-slot:${slot}`, 'host-intruder', 'EX', 60, 'NX'), 'OK', 'the other host claims the same slot')

  const fatal = await server.waitForLog(l => l.level === 60, 15_000)
  t.match(fatal, { slot, owner: 'host-intruder' }, 'the host logs that its slot is held by the other host')
  t.equal(await server.exited, 1, 'and stops with exit code 1 (after draining), to be restarted with a free slot')
  t.ok(server.logs.some(l => l.msg === 'draining'), 'it drained first')
  t.equal(await admin.get(`implus:node-slot:${slot}`), 'host-intruder', 'the other host keeps the slot')
})
