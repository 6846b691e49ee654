// A shard cycle's commit on its own: WriteBatches of private messages (the message, both users' lists,
// the conversation and both conversation-list rows per message) committed back to back by two
// committers on disjoint conversations, as two shards do. Measures what a batch costs this process
// and PostgreSQL, by batch size: the per-commit overhead is what group commit amortises.
// Options: --sizes LIST (messages per batch, default 1,5,25,100), --commits N per size (default 2000).
import { parseArgs } from 'node:util'
import { WriteBatch } from '../src/shards/write-batch.js'
import { addPrivateMessage } from '../test/helpers/batches.js'
import { startTestDatabase } from '../test/helpers/postgres.js'
import { postgresCpuSeconds, printMachine, printResults, progress } from './lib/report.js'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1,5,25,100' },
    commits: { type: 'string', default: '2000' }
  }
})
printMachine('batch-commit')
const COMMITTERS = 2
const commits = Number(values.commits)
console.log(`# ${commits} commits per size by ${COMMITTERS} concurrent committers`)

const database = await startTestDatabase('batch-commit')
let nextMsgId = 1_000_000_000n
const seqs = new Map<string, number>()

function batchOf (size: number, committer: number): WriteBatch {
  const batch = new WriteBatch()
  for (let i = 0; i < size; i++) {
    const sender = String(100_000 + committer * 50_000 + (i * 7) % 5000)
    const receiver = String(300_000 + committer * 50_000 + (i * 13) % 5000)
    const conversationId = `private_${sender}_${receiver}`
    const seq = (seqs.get(conversationId) ?? 0) + 1
    seqs.set(conversationId, seq)
    addPrivateMessage(batch, { msgId: String(++nextMsgId), sender, receiver, seq, time: Date.now() })
  }
  return batch
}

async function run (size: number, count: number): Promise<void> {
  await Promise.all(Array.from({ length: COMMITTERS }, async (_, committer) => {
    for (let i = 0; i < count / COMMITTERS; i++) await batchOf(size, committer).commit(database.sql)
  }))
}

const rows: Record<string, string | number>[] = []
try {
  for (const size of values.sizes!.split(',').map(Number)) {
    progress(`${size} messages per batch`)
    await run(size, Math.min(commits, 200)) // warm-up: prepared statements, JIT, caches
    const cpu = process.cpuUsage()
    const pg = postgresCpuSeconds(database.databaseDir)
    const started = performance.now()
    await run(size, commits)
    const seconds = (performance.now() - started) / 1000
    const used = process.cpuUsage(cpu)
    rows.push({
      'messages/batch': size,
      'commits/s': Math.round(commits / seconds),
      'messages/s': Math.round(commits * size / seconds),
      'client µs/commit': Math.round((used.user + used.system) / commits),
      'postgres µs/commit': Math.round((postgresCpuSeconds(database.databaseDir) - pg) * 1e6 / commits)
    })
  }
  printResults('batch-commit', rows)
} finally {
  await database.close()
}
