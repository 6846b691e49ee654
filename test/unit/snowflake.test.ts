// Snowflake ids (src/snowflake.ts): 41 bits ms since 2025-01-01 | 6 bits node slot | 6 bits shard | 11 bits seq.
import t from 'tap'
import { MAX_NODE_SLOTS, MAX_SHARDS, Snowflake, shardOfMsgId } from '../../src/snowflake.js'

const EPOCH_MS = 1735689600000n
const T0 = 1_750_000_000_000

/** Replaces Date.now with a scripted clock; returns the restore function (for t.teardown). */
function stubClock (clock: () => number): () => void {
  const real = Date.now
  Date.now = clock
  return () => { Date.now = real }
}

/** null if ids are strictly increasing as integers, else where the order breaks. */
function orderBreak (ids: string[]): string | null {
  for (let i = 1; i < ids.length; i++) {
    if (!(BigInt(ids[i - 1]) < BigInt(ids[i]))) return `at ${i}: ${ids[i - 1]} then ${ids[i]}`
  }
  return null
}

t.test('limits: 64 shards, 64 node slots; out-of-range values are refused', async t => {
  t.plan(6)
  t.equal(MAX_SHARDS, 64)
  t.equal(MAX_NODE_SLOTS, 64)
  t.throws(() => new Snowflake(0, 64), RangeError)
  t.throws(() => new Snowflake(0, -1), RangeError)
  t.throws(() => new Snowflake(64, 0), RangeError)
  t.throws(() => new Snowflake(-1, 0), RangeError)
})

t.test('100,000 ids in a row are unique and increasing decimal strings', async t => {
  const flake = new Snowflake(3, 5)
  const ids: string[] = new Array(100_000)
  for (let i = 0; i < ids.length; i++) ids[i] = flake.next()
  t.ok(ids.every(id => /^[1-9]\d*$/.test(id)), 'canonical decimal')
  t.ok(ids.every(id => BigInt(id) < 1n << 63n), 'fits a signed bigint column')
  t.equal(orderBreak(ids), null, '100k ids: strictly increasing')
  t.equal(new Set(ids).size, ids.length, '100k ids: unique')
  t.end()
})

t.test('the id carries the clock: ms since 2025-01-01 in the top 41 bits', async t => {
  t.plan(1)
  t.teardown(stubClock(() => T0))
  const id = new Snowflake(0, 0).next()
  t.equal((BigInt(id) >> 23n) + EPOCH_MS, BigInt(T0))
})

t.test('shardOfMsgId recovers the shard for every shard 0..63 and node slot', async t => {
  const wrong: string[] = []
  for (const node of [0, 1, 17, 42, 63]) {
    for (let shard = 0; shard < MAX_SHARDS; shard++) {
      const flake = new Snowflake(node, shard)
      for (let i = 0; i < 3; i++) {
        const id = flake.next()
        if (shardOfMsgId(id, 64) !== shard) wrong.push(`node ${node} shard ${shard} (64 shards) → ${shardOfMsgId(id, 64)}`)
        // A pool with fewer shards only creates ids for shards below its size.
        for (const pool of [shard + 1, 8, 16]) {
          if (shard < pool && shardOfMsgId(id, pool) !== shard) wrong.push(`node ${node} shard ${shard} (${pool} shards) → ${shardOfMsgId(id, pool)}`)
        }
      }
    }
  }
  t.same(wrong, [])
  t.end()
})

t.test('same millisecond, different node slots or shards: different ids', async t => {
  t.plan(1)
  t.teardown(stubClock(() => T0))
  const ids = new Set<string>()
  for (const node of [0, 1, 63]) for (const shard of [0, 1, 63]) ids.add(new Snowflake(node, shard).next())
  t.equal(ids.size, 9)
})

t.test('a frozen clock: more than 2048 ids in one millisecond stay unique and increasing', async t => {
  t.teardown(stubClock(() => T0))
  const flake = new Snowflake(1, 2)
  const ids = Array.from({ length: 10_000 }, () => flake.next())
  t.equal(orderBreak(ids), null, 'frozen clock: strictly increasing')
  t.equal(new Set(ids).size, ids.length, 'frozen clock: unique')
  t.ok(ids.every(id => shardOfMsgId(id, 64) === 2), 'shard bits untouched by the seq overflow')
  t.end()
})

t.test('a clock that steps backwards still gives unique increasing ids', async t => {
  // Forward, back 10 ms, back an hour, then slowly forward again past the old high point.
  const script = [T0, T0, T0 + 1, T0 - 10, T0 - 10, T0 - 3_600_000, T0 - 5, T0 + 1, T0 + 1, T0 + 2, T0 + 50, T0 + 49, T0 + 51]
  let i = 0
  t.teardown(stubClock(() => script[Math.min(i++, script.length - 1)]))
  const flake = new Snowflake(7, 9)
  const ids = script.map(() => flake.next())
  t.equal(orderBreak(ids), null, 'backwards clock: strictly increasing')
  t.equal(new Set(ids).size, ids.length, 'backwards clock: unique')
  t.end()
})

t.test('backwards clock with a seq overflow while waiting for it to catch up', async t => {
  let now = T0 + 100
  t.teardown(stubClock(() => now))
  const flake = new Snowflake(0, 0)
  const ids: string[] = [flake.next()]
  now = T0 // 100 ms back
  for (let n = 0; n < 5000; n++) ids.push(flake.next())
  for (now = T0 + 95; now <= T0 + 110; now++) ids.push(flake.next(), flake.next())
  t.equal(orderBreak(ids), null, 'overflow during a backward step: strictly increasing')
  t.equal(new Set(ids).size, ids.length, 'overflow during a backward step: unique')
  t.end()
})

t.test('random jitter of the clock (±20 ms) over 50,000 ids', async t => {
  let seed = 12345
  const rand = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
  let base = T0
  t.teardown(stubClock(() => { base += 0.05; return Math.floor(base + (rand() - 0.5) * 40) }))
  const flake = new Snowflake(2, 3)
  const ids = Array.from({ length: 50_000 }, () => flake.next())
  t.equal(orderBreak(ids), null, 'jittery clock: strictly increasing')
  t.equal(new Set(ids).size, ids.length, 'jittery clock: unique')
  t.end()
})
