// shardOf (src/shards/route.ts): FNV-1a 32-bit over the conversation id, fmix32, modulo the shard count.
// Every host of a cluster must agree, so the exact values are pinned: changing the hash breaks this test.
import t from 'tap'
import { fnv1a, shardOf } from '../../src/shards/route.js'

t.test('pinned results (a change of hash or of the input encoding fails here)', async t => {
  t.plan(8)
  t.equal(shardOf('private_1_2', 64), 9)
  t.equal(shardOf('private_9_10', 64), 40)
  t.equal(shardOf('group_1', 64), 55)
  t.equal(shardOf('private_10001_10002', 64), 22)
  t.equal(shardOf('private_10001_10002', 4), 2)
  t.equal(shardOf('group_1', 7), 4)
  t.equal(shardOf('private_9_10', 7), 6)
  t.equal(shardOf('group_123456789', 8), 0)
})

t.test('its first step is FNV-1a 32-bit: published test vectors', async t => {
  t.plan(3)
  t.equal(fnv1a(''), 0x811c9dc5, 'offset basis')
  t.equal(fnv1a('a'), 0xe40c292c)
  t.equal(fnv1a('foobar'), 0xbf9cf968)
})

t.test('always within 0..n-1 for every shard count 1..64', async t => {
  const bad: string[] = []
  for (let n = 1; n <= 64; n++) {
    for (let i = 0; i < 200; i++) {
      const s = shardOf(`private_${i}_${i + 1000}`, n)
      if (!Number.isInteger(s) || s < 0 || s >= n) bad.push(`${n}: ${s}`)
    }
  }
  t.same(bad, [])
  t.equal(shardOf('group_5', 1), 0)
  t.end()
})

/** Counts per shard of 10,000 ids from `make`; ok when every shard gets within ±10 % of its share. */
function spread (make: (i: number) => string, shards: number): { counts: number[], even: boolean } {
  const counts = new Array<number>(shards).fill(0)
  for (let i = 0; i < 10_000; i++) counts[shardOf(make(i), shards)]++
  const share = 10_000 / shards
  return { counts, even: counts.every(c => c >= share * 0.9 && c <= share * 1.1) }
}

let seed = 1
function random (max: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return 1 + (seed % max)
}
function pair (a: number, b: number): string {
  return a < b ? `private_${a}_${b}` : `private_${b}_${a === b ? a + 1 : a}`
}

t.test('10,000 conversation ids spread roughly evenly over 4 shards', async t => {
  const populations: [string, (i: number) => string][] = [
    ['groups with sequential ids', i => `group_${i + 1}`],
    ['groups from 1,000,000', i => `group_${1_000_000 + i}`],
    ['random pairs of users 1..10,000', () => pair(random(10_000), random(10_000))],
    ['random pairs of users 1..2e9', () => pair(random(2e9), random(2e9))],
    ['user 1 with everyone', i => `private_1_${i + 2}`]
  ]
  t.plan(populations.length)
  seed = 1
  for (const [label, make] of populations) {
    const { counts, even } = spread(make, 4)
    t.ok(even, `${label}: ${counts.join(', ')}`)
  }
})

// Fails with src/shards/route.ts as of writing: raw FNV-1a modulo a power of two only sees the low
// bits of each character, so `private_{n}_{n+1}` puts 90 % of conversations on shards 1 and 3
// (450, 4500, 459, 4591). A final avalanche step (e.g. murmur3 fmix32) before `% shards` fixes it.
t.test('conversations between users with adjacent ids spread evenly over 2, 4 and 8 shards', async t => {
  t.plan(3)
  for (const shards of [2, 4, 8]) {
    const { counts, even } = spread(i => `private_${i + 1}_${i + 2}`, shards)
    t.ok(even, `${shards} shards: ${counts.join(', ')}`)
  }
})
