// TimingWheel (src/shards/timing-wheel.ts): 512 slots of 100 ms, driven by tick() alone — no clock, no sleeping.
import t from 'tap'
import { TimingWheel, TICK_MS, WHEEL_SLOTS } from '../../src/shards/timing-wheel.js'
import { Resends } from '../../src/shards/resends.js'

/** Ticks until `key` fires (at most `limit` ticks); returns the tick number it fired on, or -1. */
function ticksUntilFired<T> (wheel: TimingWheel<T>, key: string, limit = 2 * WHEEL_SLOTS): number {
  for (let n = 1; n <= limit; n++) {
    let hit = false
    wheel.tick(k => { if (k === key) hit = true })
    if (hit) return n
  }
  return -1
}

t.test('constants: 512 slots of 100 ms', async t => {
  t.plan(2)
  t.equal(WHEEL_SLOTS, 512)
  t.equal(TICK_MS, 100)
})

t.test('an entry fires after ceil(delay / 100 ms) ticks', async t => {
  const cases: [number, number][] = [[1, 1], [99, 1], [100, 1], [101, 2], [250, 3], [5000, 50], [10_000, 100], [20_000, 200], [30_000, 300], [51_100, 511]]
  t.plan(cases.length)
  for (const [delay, ticks] of cases) {
    const wheel = new TimingWheel<number>()
    wheel.schedule('k', delay, delay)
    t.equal(ticksUntilFired(wheel, 'k'), ticks, `${delay} ms → ${ticks} ticks`)
  }
})

t.test('a zero or negative delay fires on the next tick, never synchronously', async t => {
  t.plan(4)
  for (const delay of [0, -500]) {
    const wheel = new TimingWheel<string>()
    const fired: string[] = []
    wheel.schedule('k', 'v', delay)
    t.equal(wheel.size, 1, `${delay} ms: still pending after schedule`)
    wheel.tick(k => fired.push(k))
    t.same(fired, ['k'], `${delay} ms: fired on tick 1`)
  }
})

t.test('a delay longer than one turn is clamped to the last slot instead of wrapping early', async t => {
  t.plan(1)
  const wheel = new TimingWheel<null>()
  wheel.schedule('k', null, 60_000)
  t.equal(ticksUntilFired(wheel, 'k'), WHEEL_SLOTS - 1)
})

t.test('each entry fires exactly once, with its value, and leaves the wheel', async t => {
  const wheel = new TimingWheel<{ n: number }>()
  const values = new Map<string, number>()
  for (let i = 0; i < 200; i++) {
    wheel.schedule(`m${i}`, { n: i }, (i % 40) * 137)
    values.set(`m${i}`, i)
  }
  t.equal(wheel.size, 200)
  const fired = new Map<string, number>()
  const wrongValues: string[] = []
  for (let n = 0; n < 3 * WHEEL_SLOTS; n++) {
    wheel.tick((key, value) => {
      if (value.n !== values.get(key)) wrongValues.push(key)
      fired.set(key, (fired.get(key) ?? 0) + 1)
    })
  }
  t.same(wrongValues, [], 'each entry carries its own value')
  t.equal(fired.size, 200, 'every entry fired')
  t.ok([...fired.values()].every(c => c === 1), 'none fired twice')
  t.equal(wheel.size, 0, 'wheel empty afterwards')
})

t.test('entries fire in due order; entries due together fire on the same tick', async t => {
  t.plan(3)
  const wheel = new TimingWheel<null>()
  wheel.schedule('late', null, 900)
  wheel.schedule('early', null, 300)
  wheel.schedule('early2', null, 250)
  const log: string[] = []
  for (let n = 1; n <= 10; n++) wheel.tick(k => log.push(`${n}:${k}`))
  t.same(log.slice(0, 2).sort(), ['3:early', '3:early2'])
  t.equal(log[2], '9:late')
  t.equal(log.length, 3)
})

t.test('rescheduling moves the entry (new slot, new value) instead of adding a second one', async t => {
  t.plan(5)
  const wheel = new TimingWheel<string>()
  wheel.schedule('k', 'first', 500)
  wheel.tick(() => t.fail('nothing due'))
  wheel.tick(() => t.fail('nothing due'))
  wheel.schedule('k', 'second', 1000)
  t.equal(wheel.size, 1, 'one entry')
  const log: string[] = []
  for (let n = 3; n <= 40; n++) wheel.tick((k, v) => log.push(`${n}:${k}:${v}`))
  t.same(log, ['12:k:second'], 'fires 10 ticks after the reschedule, only once, with the new value')
  t.equal(wheel.size, 0)
  // Moving earlier works too.
  wheel.schedule('j', 'a', 3000)
  wheel.schedule('j', 'b', 200)
  t.equal(ticksUntilFired(wheel, 'j', 2), 2, 'moved earlier')
  t.equal(ticksUntilFired(wheel, 'j'), -1, 'the old slot no longer fires it')
})

t.test('cancel prevents firing and returns the value', async t => {
  t.plan(7)
  const wheel = new TimingWheel<string>()
  wheel.schedule('a', 'va', 300)
  wheel.schedule('b', 'vb', 300)
  t.equal(wheel.cancel('a'), 'va')
  t.equal(wheel.size, 1)
  t.equal(wheel.cancel('a'), undefined, 'second cancel: nothing')
  t.equal(wheel.cancel('nope'), undefined, 'unknown key: nothing')
  const fired: string[] = []
  for (let n = 0; n < WHEEL_SLOTS + 10; n++) wheel.tick(k => fired.push(k))
  t.same(fired, ['b'], 'only the uncancelled entry fired')
  t.equal(wheel.cancel('b'), undefined, 'cancel after firing: nothing')
  // A cancelled key can be scheduled again.
  wheel.schedule('a', 'again', 100)
  t.equal(ticksUntilFired(wheel, 'a'), 1)
})

t.test('slots wrap: entries scheduled near the end of a turn fire on time in the next', async t => {
  const wheel = new TimingWheel<number>()
  let tickNo = 0
  const expected = new Map<string, number>()
  const actual = new Map<string, number>()
  const twice: string[] = []
  const tick = (): void => {
    tickNo++
    wheel.tick(k => { if (actual.has(k)) twice.push(k); actual.set(k, tickNo) })
  }
  // Three turns; at every 7th tick schedule something that crosses slot 511 → 0 at some point.
  for (let i = 0; i < 3 * WHEEL_SLOTS; i++) {
    if (i % 7 === 0) {
      const delay = ((i * 31) % 400 + 1) * TICK_MS
      const key = `k${i}`
      wheel.schedule(key, i, delay)
      expected.set(key, tickNo + delay / TICK_MS)
    }
    tick()
  }
  for (let i = 0; i < WHEEL_SLOTS; i++) tick()
  t.equal(actual.size, expected.size, 'all fired')
  t.same(twice, [], 'none fired twice')
  const wrong = [...expected].filter(([k, at]) => actual.get(k) !== at)
  t.same(wrong, [], 'each on its due tick')
  t.end()
})

t.test('fire may reschedule the key it is handed (entry removed before fire)', async t => {
  const wheel = new TimingWheel<number>()
  const firedAt: number[] = []
  wheel.schedule('k', 0, 200)
  for (let n = 1; n <= 20; n++) {
    wheel.tick((key, count) => {
      firedAt.push(n)
      if (count < 3) wheel.schedule(key, count + 1, 300)
    })
  }
  t.same(firedAt, [2, 5, 8, 11], 'fired every 3 ticks after the first, 4 times')
  t.equal(wheel.size, 0)
  t.end()
})

t.test('fire may schedule other keys into the slot being fired without losing them', async t => {
  const wheel = new TimingWheel<null>()
  const log: string[] = []
  wheel.schedule('a', null, 100)
  for (let n = 1; n <= WHEEL_SLOTS + 2; n++) {
    wheel.tick(key => {
      log.push(`${n}:${key}`)
      // 511 ticks ahead lands in the slot right behind the cursor; 512 would be this slot (clamped to 511).
      if (key === 'a') wheel.schedule('b', null, 100 * WHEEL_SLOTS)
    })
  }
  t.same(log, ['1:a', `${1 + WHEEL_SLOTS - 1}:b`])
  t.end()
})

t.test('the resend schedule (Resends): 5 s, 15 s, 35 s after the first push, push-failed 30 s after the third', async t => {
  const events: string[] = []
  let n = 0
  let online = true
  const resends = new Resends({
    online: () => online,
    resend: (userId, frame) => events.push(`resend retry=${frame[frame.length - 1]} to ${userId}@${n * TICK_MS}`),
    failed: (userId, msgId) => events.push(`failed ${msgId} for ${userId}@${n * TICK_MS}`)
  }, { perUser: 1000, bytes: 1 << 20 })
  resends.track('42', '7', Uint8Array.from([0x08, 0x01]))
  for (n = 1; n <= 1000; n++) resends.tick()
  t.same(events, ['resend retry=1 to 7@5000', 'resend retry=2 to 7@15000', 'resend retry=3 to 7@35000', 'failed 42 for 7@65000'])
  t.equal(resends.pending, 0, 'nothing left on the wheel')

  events.length = 0
  resends.track('43', '7', Uint8Array.from([0x08, 0x01]))
  resends.acknowledged('43', '7')
  for (n = 1; n <= 1000; n++) resends.tick()
  t.same(events, [], 'an ACKed push is never resent')

  resends.track('44', '7', Uint8Array.from([0x08, 0x01]))
  online = false
  for (n = 1; n <= 1000; n++) resends.tick()
  t.same(events, [], 'a push to a user who went offline is dropped, not resent')
  t.equal(resends.pending, 0)
})

t.test('Resends is bounded per user and in bytes: a push past either bound is reported failed at once (left to pull)', async t => {
  const failed: string[] = []
  const resends = new Resends({ online: () => true, resend: () => {}, failed: (userId, msgId) => failed.push(`${msgId}:${userId}`) }, { perUser: 3, bytes: 10_000 })
  const frame = new Uint8Array(1000)
  for (const msgId of ['1', '2', '3', '4']) resends.track(msgId, 'a', frame)
  t.same(failed, ['4:a'], 'the fourth push to one user is not kept')
  t.equal(resends.pending, 3)
  resends.acknowledged('1', 'a')
  resends.track('5', 'a', frame)
  t.same(failed, ['4:a'], 'an ACK makes room for that user again')
  for (const user of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) resends.track('9', user, frame)
  t.ok(resends.heldBytes <= 10_000, `the bytes held stay within the bound (${resends.heldBytes})`)
  t.ok(failed.length > 1, 'pushes past the byte bound are reported failed')
  const before = resends.heldBytes
  resends.acknowledged('2', 'a')
  t.equal(resends.heldBytes, before - 1200, 'an ACK gives its bytes back')
  for (let n = 0; n < 1000; n++) resends.tick()
  t.equal(resends.pending, 0)
  t.equal(resends.heldBytes, 0, 'everything given back once the schedule ends')
})
