// The SharedReceipts port (src/shards/idempotency.ts): ONE contract run against both implementations,
// localReceipts (one host: nothing to share) and RedisReceipts (cluster: a real redis-server started here).
// What every implementation keeps: one answer per key, in order; null for a send it never saw; a failure
// is an error the shard can log, never a wrong receipt. What sharing adds: a receipt remembered on one host
// is found from another until the idempotency window ends.
import t from 'tap'
import { pino } from 'pino'
import type { Redis } from 'ioredis'
import { localReceipts, type Receipt, type SharedReceipts } from '../src/shards/idempotency.js'
import { RedisReceipts } from '../src/shards/redis-receipts.js'
import { connectRedis, redisReady } from '../src/cluster/redis.js'
import { killRedis, startRedis, type RedisServer } from './helpers/redis.js'

const WINDOW_MS = 60_000
const receipt = (n: number): Receipt => ({ msgId: String(1000 + n), conversationId: `private_${n}_${n + 1}`, conversationSeq: n, userSeq: n, time: 1_700_000_000_000 + n })

let server: RedisServer
const clients: Redis[] = []
t.before(async () => { server = await startRedis() })
t.teardown(async () => {
  for (const c of clients) c.disconnect()
  await killRedis(server.child)
})
async function redisReceipts (): Promise<SharedReceipts> {
  const redis = connectRedis(server.url, 'shared-receipts-test', pino({ level: 'silent' }))
  clients.push(redis)
  await redisReady(redis)
  return new RedisReceipts(redis, WINDOW_MS)
}

const implementations: [string, () => Promise<SharedReceipts>, boolean][] = [
  ['localReceipts', async () => localReceipts, false],
  ['RedisReceipts', redisReceipts, true]
]

for (const [name, make, shares] of implementations) {
  t.test(`${name}: the SharedReceipts contract`, async t => {
    const here = await make()
    const elsewhere = await make()
    const sender = `${name}-${Date.now()}`
    t.same(await here.find([]), [], 'no keys, no answers')
    t.same(await here.find([[sender, 'a'], [sender, 'b']]), [null, null], 'one null per send never seen, in order')
    await here.remember([[sender, 'a', receipt(1)], [sender, 'c', receipt(3)]])
    const found = await elsewhere.find([[sender, 'c'], [sender, 'b'], [sender, 'a']])
    t.equal(found.length, 3, 'one answer per key')
    t.equal(found[1], null, 'a send never remembered is never found')
    if (shares) {
      t.same(found, [receipt(3), null, receipt(1)], 'what one host remembered, another host finds, in the order asked')
      const ttl = await clients[0]!.pttl(`implus:idem:${sender}:a`)
      t.ok(ttl > 0 && ttl <= WINDOW_MS, `kept for the idempotency window only (${ttl} ms left of ${WINDOW_MS})`)
    } else {
      t.same(found, [null, null, null], 'one host: nothing is shared (its window and database see every copy)')
    }
  })
}

t.test('RedisReceipts: Redis away is an error for the shard to log, never a wrong answer', async t => {
  const down = await startRedis()
  const redis = connectRedis(down.url, 'shared-receipts-down', pino({ level: 'silent' }))
  clients.push(redis)
  await redisReady(redis)
  const receipts = new RedisReceipts(redis, WINDOW_MS)
  await killRedis(down.child)
  await t.rejects(receipts.find([['1', 'x']]), 'find fails')
  await t.rejects(receipts.remember([['1', 'x', receipt(1)]]), 'remember fails')
})
