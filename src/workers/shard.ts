// Shard worker entry point: read workerData, build a Shard, wire the port.
import { parentPort, workerData } from 'node:worker_threads'
import { connect, warmUp } from '../db/connect.js'
import { createLogger } from '../log.js'
import { Shard } from '../shards/shard.js'
import { Outbox } from '../shards/outbox.js'
import { SeqClient } from '../shards/seq-client.js'
import { MemorySeqEngine } from '../seq/memory.js'
import type { FromShard, ShardWorkerData, ToShard } from '../shards/thread-messages.js'
import { RedisReceipts } from '../shards/redis-receipts.js'
import { localReceipts } from '../shards/idempotency.js'
import { connectRedis } from '../cluster/redis.js'
import { LoopDelay } from '../loop-delay.js'

const data = workerData as ShardWorkerData
const port = parentPort!
const post = (message: FromShard, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer)
const log = createLogger(data.log, { shard: data.index })
// As on the main thread: a promise nobody awaited failed. A bug to fix, logged with its shard; not a
// reason to end this worker, which would end the process and drop every connection on this host.
process.on('unhandledRejection', err => log.error({ err }, 'unhandled promise rejection'))
const sql = connect(data.databaseUrl, { max: 4, applicationName: `implus-shard-${data.index}` })
const outbox = new Outbox((batch, transfer) => post(batch, transfer))
// Single host: this shard numbers its own conversations (see SeqClient); cluster mode: Redis does.
const seq = new SeqClient(request => post(request), data.redisUrl === null ? new MemorySeqEngine(sql) : null)
const receipts = data.redisUrl === null ? localReceipts : new RedisReceipts(connectRedis(data.redisUrl, `implus-shard-${data.index}`, log), data.idempotencyWindowMs)
const shard = new Shard({ ...data, receipts, cluster: data.redisUrl !== null }, sql, seq, outbox, log)

port.on('message', (message: ToShard) => {
  switch (message.t) {
    case 'frames': return shard.frames(message)
    case 'seq': return seq.settle(message)
    case 'presence': return shard.presence(message.online, message.offline)
    case 'users': return shard.usersChanged(message.userIds)
    case 'track': return shard.track(message.userId, message.msgId, message.frame)
    case 'call': return shard.call(message, reply => post(reply))
    case 'drain':
      // 'drained' goes out whatever closing the connections meets (PostgreSQL may be stopping too: a
      // Ctrl-C on a terminal reaches it directly), or the main thread would wait for it until its deadline.
      return void shard.drain()
        .then(async () => await sql.end({ timeout: 5 }))
        .catch(err => log.warn({ err }, 'database connections did not close cleanly'))
        .finally(() => post({ t: 'drained' }))
  }
})
const loopDelay = new LoopDelay()
setInterval(() => post({ ...shard.takeStats(), loopDelay: loopDelay.take() }), 1000).unref()
await warmUp(sql)
post({ t: 'ready' })
