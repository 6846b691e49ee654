// The shard's permission and group caches against a real PostgreSQL (issue 10, item 5): bounded in
// bytes, trimmed before loading and never of what the loading batch names, and holding nothing for ids
// that name no user or group.
import t from 'tap'
import { MemberCache } from '../src/shards/members.js'
import { PermissionCache } from '../src/shards/permissions.js'
import type { Sql } from '../src/db/connect.js'
import { startTestDatabase, type TestDatabase } from './helpers/postgres.js'

let database: TestDatabase
let sql: Sql
t.before(async () => {
  database = await startTestDatabase('shard-caches')
  sql = database.sql
})
t.teardown(() => database?.close())

let nextId = 500_000
const newId = (): string => String(++nextId)

async function users (n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, newId)
  await sql`insert into users (user_id, username, password_hash) select u, 'u' || u, 'x' from unnest(${sql.array(ids)}::text[]::bigint[]) as u`
  return ids
}

async function group (members: string[]): Promise<string> {
  const conversationId = `group_${newId()}`
  await sql`insert into conversation (conversation_id, type, owner_id) values (${conversationId}, 1, ${members[0]!})`
  await sql`insert into group_members (conversation_id, user_id) select ${conversationId}, u from unnest(${sql.array(members)}::text[]::bigint[]) as u`
  return conversationId
}

t.test('groups: only existing ones are cached, in bytes, and a batch keeps what it names', async t => {
  const members = await users(3)
  const groups = await Promise.all(Array.from({ length: 12 }, () => group(members)))
  // Room for about four groups of three members.
  const cache = new MemberCache(sql, 2_000)
  await cache.load(Array.from({ length: 500 }, () => `group_${newId()}`))
  t.equal(cache.bytes, 0, '500 groups that do not exist take nothing')
  t.equal(cache.get(`group_${nextId}`), undefined, '... and read as absent')

  for (const g of groups) await cache.load([g, groups[0]!])
  t.ok(cache.bytes <= 2_000 + 2 * 540, `the cache stays near its budget (${cache.bytes} bytes)`)
  t.ok(cache.get(groups[0]!)?.members.has(members[1]!), 'a group every batch names is never evicted')
  t.ok(cache.get(groups[11]!) !== undefined, 'the group just loaded is there')
  t.equal(cache.get(groups[1]!), undefined, 'older groups made room')

  // A batch naming more groups than fit still finds every one of them after its load.
  await cache.load(groups)
  t.ok(groups.every(g => cache.get(g) !== undefined), 'a batch finds every group it named, even past the budget')
})

t.test('users and relations: absent users are not cached; a batch keeps the facts it loads', async t => {
  const [alice, bob, ...others] = await users(30)
  const cache = new PermissionCache(sql, 3_000)
  await cache.load(Array.from({ length: 200 }, newId), [])
  t.equal(cache.bytes, 0, '200 users that do not exist take nothing')
  t.match(cache.user(String(nextId)), { exists: false, banned: false }, '... and read as missing')
  await cache.load([alice!, newId()], [[newId(), alice!]])
  t.equal(cache.relation(String(nextId), alice!).friends, false, 'a relation toward a receiver that does not exist grants nothing')

  for (const other of others) {
    await cache.load([alice!, bob!, other], [[bob!, alice!], [other, alice!]])
    t.equal(cache.user(bob!).exists, true, `bob is known in the batch loading ${other}`)
    t.equal(cache.relation(bob!, alice!).blocked, false)
  }
  t.ok(cache.bytes <= 3_000 + 3 * 600, `the cache stays near its budget (${cache.bytes} bytes)`)
  t.equal(cache.user(others[0]!).exists, false, 'early users made room (missing again until loaded)')
})
