// Issue 7: the sequence-engine contract of src/seq/engine.ts, as ONE suite run on both engines through a
// factory (centrifuge's map_broker_shared_test.go pattern): MemorySeqEngine (one host) and RedisSeqEngine
// (cluster). Both run against a real PostgreSQL (the server's embedded PostgreSQL in a temp folder, the real schema from
// sql/) and the Redis one against a real redis-server started here. Nothing is mocked: the only wrapper is
// a gate on one engine's PostgreSQL connection that holds a reservation's answer back, to make two hosts
// race deterministically.

import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'
import { pino } from 'pino'
import t from 'tap'
import type { Sql } from '../src/db/connect.js'
import { startTestDatabase, type TestDatabase } from './helpers/postgres.js'
import { killRedis, startRedis } from './helpers/redis.js'
import { AppError, Status } from '../src/errors.js'
import { SEGMENT_STEP, type SeqEngine } from '../src/seq/engine.js'
import { MemorySeqEngine } from '../src/seq/memory.js'
import { RedisSeqEngine } from '../src/seq/redis.js'
import { connectRedis, redisReady } from '../src/cluster/redis.js'

const silent = pino({ level: 'silent' })

/** The committed bound of each key in sequence_section (0 for keys never reserved). */
async function committedBounds (sql: Sql, keys: string[]): Promise<Map<string, number>> {
  const rows = await sql<{ key: string, max: string }[]>`
    select section_key as key, max_seq as max from sequence_section where section_key = any(${sql.array(keys)}::text[])`
  const bounds = new Map(keys.map(k => [k, 0]))
  for (const r of rows) bounds.set(r.key, Number(r.max))
  return bounds
}

// ---- real PostgreSQL and redis-server, and nothing left running ---------------------------------------

let database: TestDatabase | undefined
let sql: Sql
let redisProcess: ChildProcess | undefined
let redisUrl = ''
const clients = new Set<Redis>()

t.before(async () => {
  database = await startTestDatabase('seq-engines')
  sql = database.sql
  const redis = await startRedis()
  redisProcess = redis.child
  redisUrl = redis.url
})

t.teardown(async () => {
  for (const client of clients) client.disconnect()
  clients.clear()
  await database?.close()
  if (redisProcess !== undefined) await killRedis(redisProcess)
})

/** A fresh Redis connection, configured as the server configures its own (fail fast, reconnect by itself). */
async function redisClient (): Promise<Redis> {
  const client = connectRedis(redisUrl, 'seq-engines-test', silent)
  clients.add(client)
  await redisReady(client)
  return client
}

// ---- the factory: one contract, two engines ----------------------------------------------------------

interface EngineFactory {
  /** A new engine instance: a fresh process (memory) or another host (redis) on the same database. */
  make (db?: Sql): Promise<SeqEngine>
  /** True when instances share live state (Redis), so two of them hand out one gap-free stream per key. */
  readonly shared: boolean
}

const factories: Record<string, EngineFactory> = {
  memory: {
    make: async (db = sql) => new MemorySeqEngine(db),
    shared: false
  },
  redis: {
    make: async (db = sql) => new RedisSeqEngine(await redisClient(), db),
    shared: true
  }
}

let keyCounter = 0
/** A key no other test (or engine) touches: every test starts from an empty sequence_section row. */
const freshKey = (label: string): string => `test:${label}:${process.pid}:${++keyCounter}:${randomBytes(3).toString('hex')}`

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** The numbers a call gave to one key, in the order of the call's entries. */
function numbersOf (keys: readonly string[], result: Float64Array, key: string): number[] {
  const out: number[] = []
  for (let i = 0; i < keys.length; i++) if (keys[i] === key) out.push(result[i]!)
  return out
}

/** Every number handed out so far must lie within the bound committed to PostgreSQL (else a crash could reuse it). */
async function assertCommitted (t: Tap, key: string, highest: number): Promise<void> {
  const bound = (await committedBounds(sql, [key])).get(key)!
  t.ok(bound >= highest, `sequence_section bound ${bound} covers the highest number handed out (${highest})`)
}

type Tap = typeof t

for (const [name, factory] of Object.entries(factories)) {
  t.test(`${name} engine: the SeqEngine contract`, async t => {
    const engine = await factory.make()
    t.teardown(() => engine.close())

    t.test('one number per entry; a key listed n times gets n consecutive numbers', async t => {
      const [a, b, c] = [freshKey('a'), freshKey('b'), freshKey('c')]
      const keys = [a, b, a, a, c, b, a]
      const got = await engine.allocate(keys)
      t.equal(got.length, keys.length, 'one number per entry')
      t.same(numbersOf(keys, got, a), [1, 2, 3, 4], 'a fresh key starts at 1 and its 4 occurrences are consecutive, in entry order')
      t.same(numbersOf(keys, got, b), [1, 2], 'b: consecutive in entry order')
      t.same(numbersOf(keys, got, c), [1], 'c: one number')
      t.same([...await engine.allocate([])], [], 'an empty call returns nothing')
      await assertCommitted(t, a, 4)
    })

    t.test('per key: strictly increasing and gap-free across calls', async t => {
      const a = freshKey('a')
      const b = freshKey('b')
      const seenA: number[] = []
      const seenB: number[] = []
      for (let call = 0; call < 30; call++) {
        const keys = call % 3 === 0 ? [a, b, a] : call % 3 === 1 ? [b] : [a, a, a, b, b]
        const got = await engine.allocate(keys)
        seenA.push(...numbersOf(keys, got, a))
        seenB.push(...numbersOf(keys, got, b))
      }
      t.same(seenA, range(1, seenA.length), `a: 1..${seenA.length}, no gap, no repeat`)
      t.same(seenB, range(1, seenB.length), `b: 1..${seenB.length}, no gap, no repeat`)
    })

    t.test('concurrent calls: per key, every number once, no gap (in whatever order calls are served)', async t => {
      const a = freshKey('a')
      const b = freshKey('b')
      // 60 calls in flight at once: the first needs a reservation in PostgreSQL (slow), and some cross into a
      // second segment (a key with 4,000 entries per call). Calls may be served out of order (a call waiting
      // for a segment does not hold up the others), but no number may be lost or repeated.
      const calls: { keys: string[], result: Promise<Float64Array> }[] = []
      for (let i = 0; i < 60; i++) {
        const keys = i % 10 === 5 ? Array<string>(4000).fill(b) : [a, b]
        calls.push({ keys, result: engine.allocate(keys) })
      }
      const results = await Promise.all(calls.map(c => c.result))
      const seenA = results.flatMap((r, i) => numbersOf(calls[i]!.keys, r, a))
      const seenB = results.flatMap((r, i) => numbersOf(calls[i]!.keys, r, b))
      t.same([...seenA].sort((x, y) => x - y), range(1, 54), 'a: 1..54, each once')
      t.equal(seenB.length, 54 + 6 * 4000)
      const sortedB = [...seenB].sort((x, y) => x - y)
      t.ok(sortedB.every((n, i) => n === i + 1), `b: 1..${seenB.length} each once, across segment boundaries`)
      // Within one call a key's numbers are consecutive (the contract's "n consecutive numbers").
      t.ok(results.every((r, i) => calls[i]!.keys[0] !== b || calls[i]!.keys.length !== 4000 || r.every((n, k) => k === 0 || n === r[k - 1]! + 1)), 'a call listing b 4,000 times got 4,000 consecutive numbers')
      await assertCommitted(t, b, seenB.length)
    })

    t.test('segments cross the 10,000 boundary without gaps (25,000 numbers for one key in a few calls)', async t => {
      const key = freshKey('big')
      const seen: number[] = []
      for (const size of [7000, 7000, 11_000]) {
        const keys = Array<string>(size).fill(key)
        seen.push(...(await engine.allocate(keys)))
        await assertCommitted(t, key, seen[seen.length - 1]!)
      }
      t.equal(seen.length, 25_000)
      const firstBad = seen.findIndex((n, i) => n !== i + 1)
      t.equal(firstBad, -1, `1..25,000 with no gap across ${SEGMENT_STEP}-number segments${firstBad < 0 ? '' : ` (entry ${firstBad} is ${seen[firstBad]})`}`)
      t.same([...await engine.allocate([key])], [25_001], 'and the next call continues at 25,001')
    })

    t.test('many keys in one call', async t => {
      const keys = Array.from({ length: 3000 }, (_, i) => freshKey(`many${i}`))
      const first = await engine.allocate(keys)
      t.ok(first.every(n => n === 1), 'each of 3,000 fresh keys gets 1')
      const twice = [...keys, ...keys]
      const second = await engine.allocate(twice)
      t.ok(keys.every((k, i) => second[i] === 2 && second[i + keys.length] === 3), 'listed twice: each key gets 2 then 3, in entry order')
      const bounds = await committedBounds(sql, keys)
      t.ok(keys.every(k => bounds.get(k)! >= 3), 'every key has a committed bound covering its numbers')
    })

    t.test('a fresh instance on the same database resumes above every number handed out (restart)', async t => {
      const key = freshKey('restart')
      const before = await engine.allocate(Array<string>(12_345).fill(key))
      const highest = before[before.length - 1]!
      t.equal(highest, 12_345)
      // A new instance is a restarted process (memory) or another host / a restarted host (redis).
      const again = await factory.make()
      t.teardown(() => again.close())
      const after = await again.allocate([key, key, key])
      t.ok(after[0]! > highest, `first number after the restart (${after[0]}) is above ${highest}`)
      t.same([...after], [after[0]!, after[0]! + 1, after[0]! + 2], 'and consecutive from there')
      if (factory.shared) t.equal(after[0], highest + 1, 'redis: state lives in Redis, so another instance continues without a gap')
      await assertCommitted(t, key, after[2]!)
    })

    t.test('two instances at once (two hosts, or an old and a new process) never hand out one number twice', async t => {
      const key = freshKey('two')
      const other = await factory.make()
      t.teardown(() => other.close())
      const calls: Promise<Float64Array>[] = []
      for (let i = 0; i < 40; i++) calls.push((i % 2 === 0 ? engine : other).allocate(Array<string>(700).fill(key)))
      const all = (await Promise.all(calls)).flatMap(r => [...r])
      t.equal(new Set(all).size, all.length, `${all.length} numbers, all distinct`)
      if (factory.shared) {
        all.sort((x, y) => x - y)
        t.same(all[all.length - 1], all.length, 'redis: one stream shared by both hosts, gap-free (1..28,000)')
      }
    })
  })
}

// ---- Redis-only duties: losing Redis's data, two hosts racing for a segment, Redis away --------------

t.test('redis engine: FLUSHALL (data loss), then allocation continues above every number used before', async t => {
  const engine = await factories.redis!.make()
  t.teardown(() => engine.close())
  const user = freshKey('u')
  const conversation = freshKey('c')
  const before = await engine.allocate([...Array<string>(15_000).fill(user), ...Array<string>(3).fill(conversation)])
  t.equal(before[14_999], 15_000)
  t.equal(before[15_002], 3)

  const admin = await redisClient()
  t.equal(await admin.flushall(), 'OK', 'Redis loses everything')

  const after = await engine.allocate([user, conversation, user])
  t.ok(after[0]! > 15_000, `user key resumes above 15,000 (got ${after[0]})`)
  t.equal(after[2], after[0]! + 1, 'and is consecutive from there')
  t.ok(after[1]! > 3, `conversation key resumes above 3 (got ${after[1]})`)
  await assertCommitted(t, user, after[2]!)

  // Another host arriving after the loss joins the same resumed stream.
  const other = await factories.redis!.make()
  t.teardown(() => other.close())
  t.same([...await other.allocate([user])], [after[2]! + 1], 'a second host continues the resumed stream')

  // A second loss in a row: still above everything, never a repeat.
  t.equal(await admin.flushall(), 'OK')
  const third = await engine.allocate([user])
  t.ok(third[0]! > after[2]! + 1, `after a second FLUSHALL the user key is above ${after[2]! + 1} (got ${third[0]})`)
})

/**
 * An Sql whose queries answer only once `gate` opens, while the statement itself runs (and commits) at
 * once: a host whose reservation committed first but whose answer arrives late.
 */
function gatedSql (real: Sql, gate: Promise<void>, committed: () => void): Sql {
  const gated = (...args: unknown[]): unknown => {
    const query = (real as unknown as (...a: unknown[]) => Promise<unknown>)(...args)
    return query.then(async rows => {
      committed()
      await gate
      return rows
    })
  }
  return Object.assign(gated, { array: real.array.bind(real) }) as unknown as Sql
}

/** Counts the statements an engine sends to PostgreSQL (reservations are its only statements). */
function countingSql (real: Sql): { sql: Sql, count: () => number } {
  let n = 0
  const counted = (...args: unknown[]): unknown => {
    n++
    return (real as unknown as (...a: unknown[]) => Promise<unknown>)(...args)
  }
  return { sql: Object.assign(counted, { array: real.array.bind(real) }) as unknown as Sql, count: () => n }
}

t.test('redis engine: two hosts short of a segment at once still hand out one gap-free stream', async t => {
  // Host 1 has reserved its segment in PostgreSQL but not yet applied it to Redis (its answer is late)
  // when host 2 runs short of the same key. Host 2 must wait for host 1's segment rather than reserve
  // one of its own: whichever extended Redis second would otherwise make numbering skip a segment, and
  // the contract says "gap-free in normal running" (a user's partners on two hosts, a segment running
  // out). Checked for a key's first segment and for a later one (a segment running out mid-stream).
  for (const prefill of [0, SEGMENT_STEP]) {
    const key = freshKey(`race${prefill}`)
    const counted = countingSql(sql)
    const host2 = await factories.redis!.make(counted.sql)
    if (prefill > 0) t.equal((await host2.allocate(Array<string>(prefill).fill(key)))[prefill - 1], prefill, `prefilled 1..${prefill}`)
    const reservationsBefore = counted.count()
    let open!: () => void
    const gate = new Promise<void>(resolve => { open = resolve })
    let reserved!: () => void
    const host1Reserved = new Promise<void>(resolve => { reserved = resolve })
    const host1 = await factories.redis!.make(gatedSql(sql, gate, reserved))
    const first = host1.allocate([key])
    await host1Reserved // host 1's segment is committed in sequence_section, not yet applied to Redis
    const second = host2.allocate([key])
    open()
    const got = [...await first, ...await second].sort((x, y) => x - y)
    t.same(got, [prefill + 1, prefill + 2], `prefill ${prefill}: the two hosts got ${prefill + 1} and ${prefill + 2} (got ${got.join(', ')})`)
    t.equal(counted.count(), reservationsBefore, 'host 2 reserved no segment of its own: it waited for host 1\'s')
    await host1.close()
    await host2.close()
  }
})

t.test('redis engine: a host that finds a key short but locks it after another host extended it reserves nothing', async t => {
  // The other interleaving of the race above: host 2's allocate.lua reports the key short, then host 1
  // reserves, extends Redis and unlocks before host 2's lock request arrives. Host 2 wins the lock on a
  // key that has room again and must not reserve a second segment for it.
  const key = freshKey('late-lock')
  const host1 = await factories.redis!.make()
  t.equal((await host1.allocate(Array<string>(SEGMENT_STEP).fill(key)))[SEGMENT_STEP - 1], SEGMENT_STEP, `prefilled 1..${SEGMENT_STEP}`)
  const counted = countingSql(sql)
  const client = await redisClient()
  const host2 = new RedisSeqEngine(client, counted.sql)
  // Host 2's first look at Redis is answered only after host 1 has finished its whole reservation.
  const commands = client as unknown as { seqAllocate: (...args: unknown[]) => Promise<unknown> }
  const realAllocate = commands.seqAllocate.bind(client)
  let host1Done: Promise<Float64Array> | undefined
  commands.seqAllocate = async (...args) => {
    const reply = await realAllocate(...args)
    if (host1Done === undefined) {
      host1Done = host1.allocate([key])
      await host1Done
    }
    return reply
  }
  const second = await host2.allocate([key])
  t.same([...await host1Done!], [SEGMENT_STEP + 1], 'host 1 reserved the next segment and took its first number')
  t.same([...second], [SEGMENT_STEP + 2], 'host 2 continues host 1\'s segment, no gap')
  t.equal(counted.count(), 0, 'host 2 reserved no segment: it found the key extended once it held the lock')
  await host1.close()
  await host2.close()
})

t.test('redis engine: Redis unreachable fails fast with 503 (AppError UNAVAILABLE), and recovers', async t => {
  const { child, url, port } = await startRedis()
  t.teardown(() => killRedis(child))
  const client = connectRedis(url, 'seq-engines-outage', silent)
  clients.add(client)
  await redisReady(client)
  const engine = new RedisSeqEngine(client, sql)
  const key = freshKey('outage')
  t.same([...await engine.allocate([key])], [1])

  const closed = new Promise(resolve => client.once('close', resolve))
  const exited = new Promise(resolve => child.once('exit', resolve))
  child.kill('SIGKILL')
  await Promise.all([exited, closed])
  const started = Date.now()
  const err = await engine.allocate([key]).then(() => null, (e: unknown) => e)
  t.ok(err instanceof AppError, `rejected with an AppError (${String(err)})`)
  t.equal((err as AppError).status, Status.UNAVAILABLE, '503')
  t.ok(Date.now() - started < 1000, `promptly (${Date.now() - started} ms), not after a queue or retry loop`)

  // A new redis-server on the same port with no data: the client reconnects by itself, and numbering
  // resumes above 1 (the committed bound), never repeating it.
  const { child: restarted } = await startRedis(port)
  t.teardown(() => killRedis(restarted))
  await redisReady(client, 15_000)
  const after = await engine.allocate([key])
  t.ok(after[0]! > 1, `after the outage and data loss: ${after[0]} > 1`)
  await engine.close()
  client.disconnect()
  clients.delete(client)
})
