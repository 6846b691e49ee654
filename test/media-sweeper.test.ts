// The sweep of unsent uploads (src/media/sweeper.ts) on a real PostgreSQL: two sweepers on separate
// connection pools, as two hosts would be, running at the same moment, each row claimed by one of them.
import t from 'tap'
import { pino } from 'pino'
import type { Readable } from 'node:stream'
import { Sweeper } from '../src/media/sweeper.js'
import { Metrics } from '../src/metrics.js'
import type { BlobStore } from '../src/media/store.js'
import { connect, type Sql } from '../src/db/connect.js'
import { startTestDatabase, type TestDatabase } from './helpers/postgres.js'

let database: TestDatabase
let second: Sql
t.before(async () => {
  database = await startTestDatabase('media-sweeper')
  second = connect(database.url, { max: 4, applicationName: 'second-host' })
})
t.teardown(async () => {
  await second?.end({ timeout: 5 })
  await database?.close()
})

/** A store that only records what it was asked to delete. */
class RecordingStore implements BlobStore {
  readonly kind = 'recording'
  readonly deleted: string[] = []
  async putFile (): Promise<void> {}
  async read (): Promise<Readable> { throw new Error('not used') }
  async delete (keys: readonly string[]): Promise<void> { this.deleted.push(...keys) }
  async close (): Promise<void> {}
}

let nextId = 5_000_000
async function file (sql: Sql, opts: { ageSeconds: number, pending?: boolean, checkedSecondsAgo?: number, claimedSecondsAgo?: number, parentId?: string }): Promise<string> {
  const id = String(++nextId)
  await sql`
    insert into files (file_id, owner_id, parent_id, name, size, mime_type, sha256, storage_key, pending, create_time, checked_time, deleting_time)
    values (${id}, 1001, ${opts.parentId ?? null}, 'f', 10, 'application/octet-stream', 'x', ${`key-${id}`}, ${opts.pending ?? true},
      now() - make_interval(secs => ${opts.ageSeconds}),
      ${opts.checkedSecondsAgo === undefined ? null : sql`now() - make_interval(secs => ${opts.checkedSecondsAgo})`},
      ${opts.claimedSecondsAgo === undefined ? null : sql`now() - make_interval(secs => ${opts.claimedSecondsAgo})`})`
  return id
}

const DAY = 86_400

t.test('two hosts sweeping at once delete each expired upload exactly once, and nothing else', async t => {
  const sql = database.sql
  const expired: string[] = []
  for (let i = 0; i < 1200; i++) expired.push(await file(sql, { ageSeconds: DAY + 100 + i }))
  const withThumbnail = expired[0]!
  const thumbnail = await file(sql, { ageSeconds: DAY + 100, parentId: withThumbnail })
  const young = await file(sql, { ageSeconds: DAY - 100 })
  const sent = await file(sql, { ageSeconds: 3 * DAY, pending: false })
  const checkedLately = await file(sql, { ageSeconds: 3 * DAY, checkedSecondsAgo: 60 })
  const claimedNow = await file(sql, { ageSeconds: 3 * DAY, claimedSecondsAgo: 60 })
  const claimedByTheDead = await file(sql, { ageSeconds: 3 * DAY, claimedSecondsAgo: 2 * 3600 })

  const log = pino({ level: 'silent' })
  const stores = [new RecordingStore(), new RecordingStore()]
  const sweepers = [new Sweeper(sql, stores[0]!, DAY, new Metrics(), log), new Sweeper(second, stores[1]!, DAY, new Metrics(), log)]
  const counts = await Promise.all(sweepers.map(s => s.sweep()))
  const deleted = [...stores[0]!.deleted, ...stores[1]!.deleted]
  const wanted = [...expired, thumbnail, claimedByTheDead].map(id => `key-${id}`)
  t.equal(counts[0]! + counts[1]!, wanted.length, `${wanted.length} files deleted in all (${counts.join(' + ')})`)
  t.equal(new Set(deleted).size, deleted.length, 'no object deleted twice')
  t.same(new Set(deleted), new Set(wanted), 'exactly the expired uploads, the thumbnail of one, and the claim a dead host left')
  const left = (await sql<{ id: string }[]>`select file_id as id from files`).map(r => r.id)
  t.same(new Set(left), new Set([young, sent, checkedLately, claimedNow]), 'the rows left: too young, sent, checked by a send lately, being deleted by another host')
})
