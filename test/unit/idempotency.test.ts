// IdempotencyCache (src/shards/idempotency.ts): (sender, clientSeq) → first receipt, for 5 minutes.
import t from 'tap'
import { IdempotencyCache, IDEMPOTENCY_WINDOW_MS } from '../../src/shards/idempotency.js'

const T0 = 1_750_000_000_000
const key = IdempotencyCache.key

t.test('the window is 5 minutes', async t => {
  t.plan(1)
  t.equal(IDEMPOTENCY_WINDOW_MS, 300_000)
})

t.test('key separates sender and clientSeq unambiguously', async t => {
  t.plan(2)
  t.not(key('1', '23'), key('12', '3'))
  t.not(key('1', 'a'), key('2', 'a'))
})

t.test('begin then get: in flight (receipt null), then the committed receipt', async t => {
  t.plan(6)
  const cache = new IdempotencyCache<{ msgId: string }>()
  const k = key('1', 'uuid-1')
  t.equal(cache.get(k, T0), undefined, 'unknown before begin')
  const entry = cache.begin(k, T0)
  t.same(entry, { at: T0, receipt: null, waiting: null })
  t.equal(cache.get(k, T0 + 1), entry, 'the same entry while in flight')
  entry.receipt = { msgId: '42' }
  t.same(cache.get(k, T0 + 1000)?.receipt, { msgId: '42' }, 'a repeat gets the first receipt')
  t.equal(cache.get(key('1', 'uuid-2'), T0), undefined, 'another clientSeq is not a repeat')
  t.equal(cache.get(key('2', 'uuid-1'), T0), undefined, 'another sender is not a repeat')
})

t.test('get honours the window: exactly 5 minutes is still a repeat, 1 ms later it is not', async t => {
  t.plan(3)
  const cache = new IdempotencyCache<string>()
  const k = key('1', 'x')
  cache.begin(k, T0).receipt = 'r'
  t.equal(cache.get(k, T0 + IDEMPOTENCY_WINDOW_MS)?.receipt, 'r')
  t.equal(cache.get(k, T0 + IDEMPOTENCY_WINDOW_MS + 1), undefined)
  t.equal(cache.get(k, T0 + 10 * IDEMPOTENCY_WINDOW_MS), undefined)
})

t.test('begin again replaces the entry and restarts its window', async t => {
  t.plan(4)
  const cache = new IdempotencyCache<string>()
  const k = key('1', 'x')
  cache.begin(k, T0).receipt = 'old'
  const fresh = cache.begin(k, T0 + IDEMPOTENCY_WINDOW_MS + 1)
  t.equal(fresh.receipt, null)
  t.equal(cache.get(k, T0 + IDEMPOTENCY_WINDOW_MS + 2), fresh)
  cache.expire(T0 + IDEMPOTENCY_WINDOW_MS + 2)
  t.equal(cache.get(k, T0 + IDEMPOTENCY_WINDOW_MS + 2), fresh, 'expire keeps the re-begun entry')
  t.equal(cache.get(k, T0 + 2 * IDEMPOTENCY_WINDOW_MS + 1), fresh, 'window counted from the second begin')
})

t.test('forget drops an entry (a send that failed may be retried)', async t => {
  t.plan(3)
  const cache = new IdempotencyCache<string>()
  const k = key('1', 'x')
  cache.begin(k, T0)
  cache.forget(k)
  t.equal(cache.get(k, T0), undefined)
  t.doesNotThrow(() => cache.forget(k), 'forgetting twice is harmless')
  t.equal(cache.begin(k, T0 + 1).at, T0 + 1)
})

t.test('expire trims entries older than the window and keeps the rest', async t => {
  const cache = new IdempotencyCache<number>()
  for (let i = 0; i < 100; i++) cache.begin(key('1', `c${i}`), T0 + i * 1000).receipt = i
  // At T0 + window + 49.5 s, entries 0..49 are older than the window.
  const now = T0 + IDEMPOTENCY_WINDOW_MS + 49_500
  cache.expire(now)
  // Look them up at a time when an untrimmed entry would still be valid: only trimming can hide it.
  const early = T0
  const gone = [...Array(100).keys()].filter(i => cache.get(key('1', `c${i}`), early + i * 1000) === undefined)
  t.same(gone, [...Array(50).keys()], 'entries 0..49 removed, 50..99 kept')
  t.equal(cache.get(key('1', 'c50'), now)?.receipt, 50)
  t.equal(cache.get(key('1', 'c49'), now), undefined)
  cache.expire(T0 + 100 * IDEMPOTENCY_WINDOW_MS)
  const left = [...Array(100).keys()].filter(i => cache.get(key('1', `c${i}`), T0 + i * 1000) !== undefined)
  t.same(left, [], 'everything expires eventually')
  t.end()
})

t.test('expire on an empty cache and with nothing old is a no-op', async t => {
  t.plan(2)
  const cache = new IdempotencyCache<number>()
  t.doesNotThrow(() => cache.expire(T0))
  cache.begin(key('1', 'a'), T0).receipt = 1
  cache.expire(T0 + 1)
  t.equal(cache.get(key('1', 'a'), T0 + 1)?.receipt, 1)
})
