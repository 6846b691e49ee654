// WindowRateLimit (src/http/rate-limit.ts): requests per key per one-second window.
import t from 'tap'
import { WindowRateLimit } from '../../src/http/rate-limit.js'

t.test('up to the limit per key within a second, then refused until the next second', async t => {
  const clock = { now: 1_750_000_000_000 }
  const limit = new WindowRateLimit(3, () => clock.now)
  t.same([1, 2, 3, 4].map(() => limit.allow('1001')), [true, true, true, false], 'the fourth in the same second is refused')
  t.ok(limit.allow('1002'), 'another key has its own count')
  clock.now += 999
  t.notOk(limit.allow('1001'), 'still the same second')
  clock.now += 1
  t.ok(limit.allow('1001'), 'a new second starts a new count')
})
