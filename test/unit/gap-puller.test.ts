import t from 'tap'
import { GapPuller, GapPullError } from '../../packages/client/src/sync/gap-puller.js'
import { SeqStream, type SeqRange } from '../../packages/client/src/sync/stream.js'
import { FakeScheduler, seededRandom, settle } from '../helpers/fake-scheduler.js'

interface Msg {
  seq: number
}

interface PendingPull {
  readonly range: SeqRange
  readonly resolve: (messages: Msg[]) => void
  readonly reject: (error: Error) => void
}

const msg = (seq: number): Msg => ({ seq })
const between = (range: SeqRange): Msg[] => Array.from({ length: range.to - range.from + 1 }, (_, i) => msg(range.from + i))

/** A puller whose pulls wait until the test settles them. */
function harness (options: { random?: () => number; maxPulls?: number } = {}) {
  const scheduler = new FakeScheduler()
  const pulls: PendingPull[] = []
  const delivered: number[] = []
  const errors: GapPullError[] = []
  const stream = new SeqStream<Msg>({ seqOf: (m) => m.seq, maxPulls: options.maxPulls })
  const puller = new GapPuller<Msg>({
    stream,
    scheduler,
    random: options.random ?? (() => 0.5),
    pull: (range) => new Promise((resolve, reject) => pulls.push({ range, resolve, reject })),
    deliver: (messages) => delivered.push(...messages.map((m) => m.seq)),
    onError: (error) => errors.push(error),
  })
  return { scheduler, pulls, delivered, errors, stream, puller }
}

t.test('a failing pull is retried with exponentially growing delays, 3 attempts in all', async (t) => {
  const { scheduler, pulls, errors, stream, puller } = harness()
  puller.accept(5, msg(5))
  t.equal(pulls.length, 1, 'first attempt at once')
  pulls[0].reject(new Error('offline'))
  await settle()
  t.same(scheduler.pending, [200], 'first retry after 200 ms')
  scheduler.advance(199)
  t.equal(pulls.length, 1, 'not before')
  scheduler.advance(1)
  t.equal(pulls.length, 2)
  t.same(pulls[1].range, pulls[0].range, 'the same gap')
  pulls[1].reject(new Error('offline'))
  await settle()
  t.same(scheduler.pending, [400], 'second retry after 400 ms')
  scheduler.advance(400)
  t.equal(pulls.length, 3)
  pulls[2].reject(new Error('offline'))
  await settle()
  t.same(scheduler.pending, [], 'no fourth attempt')
  t.equal(errors.length, 1, 'one error event')
  t.same(errors[0].range, { from: 1, to: 4 })
  t.equal(errors[0].attempts, 3)
  t.match((errors[0].cause as Error).message, 'offline')
  t.equal(stream.pulling, 0, 'the gap is left open')
  t.equal(puller.active, 0)

  puller.accept(6, msg(6))
  t.equal(pulls.length, 4, 'a later message pulls it again')
  t.same(pulls[3].range, { from: 1, to: 4 })
})

t.test('back-off is jittered by ±20 %', async (t) => {
  for (const [random, first] of [[0, 160], [1, 240]] as const) {
    const { scheduler, pulls, puller } = harness({ random: () => random })
    puller.accept(2, msg(2))
    pulls[0].reject(new Error('x'))
    await settle()
    t.same(scheduler.pending, [first], `random ${random}`)
  }
})

t.test('a pull that throws synchronously is retried like a rejected one', async (t) => {
  const scheduler = new FakeScheduler()
  let calls = 0
  const puller = new GapPuller<Msg>({
    stream: new SeqStream<Msg>({ seqOf: (m) => m.seq }),
    scheduler,
    random: () => 0.5,
    pull: () => {
      calls++
      throw new Error('not connected')
    },
    deliver: () => undefined,
  })
  puller.accept(3, msg(3))
  await settle()
  scheduler.advance(200)
  await settle()
  t.equal(calls, 2)
})

t.test('concurrent gaps are pulled independently and delivered in order', async (t) => {
  const { scheduler, pulls, delivered, errors, stream, puller } = harness()
  for (const seq of [1, 3, 6, 9]) puller.accept(seq, msg(seq))
  t.same(pulls.map((p) => p.range), [{ from: 2, to: 2 }, { from: 4, to: 5 }, { from: 7, to: 8 }], 'all three pulled at once')
  t.same(delivered, [1])

  pulls[0].reject(new Error('slow server'))
  pulls[2].resolve(between(pulls[2].range))
  pulls[1].resolve(between(pulls[1].range))
  await settle()
  t.same(delivered, [1], 'later ranges wait for the failed one, in order')
  t.equal(stream.pulling, 1, 'but they are settled: only the failed gap is still claimed')

  scheduler.advance(200)
  t.equal(pulls.length, 4, 'the failed gap retries on its own timer')
  pulls[3].resolve(between(pulls[3].range))
  await settle()
  t.same(delivered, [1, 2, 3, 4, 5, 6, 7, 8, 9], 'pulled messages are delivered, in order')
  t.equal(errors.length, 0)
  t.equal(puller.active, 0)
})

t.test('a gap found while another pull runs is pulled too', async (t) => {
  const { pulls, delivered, puller } = harness()
  puller.accept(3, msg(3))
  t.equal(pulls.length, 1)
  puller.accept(6, msg(6))
  t.equal(pulls.length, 2, 'no global pulling flag')
  pulls[1].resolve([msg(4), msg(5)])
  pulls[0].resolve([msg(1), msg(2)])
  await settle()
  t.same(delivered, [1, 2, 3, 4, 5, 6])
})

t.test('noteLatest pulls what lies beyond the last push', async (t) => {
  const { pulls, delivered, puller } = harness()
  puller.noteLatest(3)
  t.same(pulls.map((p) => p.range), [{ from: 1, to: 3 }])
  pulls[0].resolve([msg(1), msg(3)])
  await settle()
  t.same(delivered, [1, 3], 'a seq the server skipped is empty')
})

t.test('close stops retries and ignores pulls in flight', async (t) => {
  const { scheduler, pulls, delivered, puller } = harness()
  puller.accept(2, msg(2))
  puller.accept(5, msg(5))
  pulls[0].reject(new Error('x'))
  await settle()
  puller.close()
  t.same(scheduler.pending, [], 'retry timer cleared')
  pulls[1].resolve([msg(3), msg(4)])
  await settle()
  t.same(delivered, [], 'nothing delivered after close')
})

/** Seqs 1..total with some lost and some doubled, reordered by `shuffle`. */
function arrivalsOf (total: number, random: () => number, shuffle: (arrivals: number[]) => void): number[] {
  const arrivals: number[] = []
  for (let seq = 1; seq <= total; seq++) {
    const r = random()
    if (r < 0.15) continue
    arrivals.push(seq)
    if (r > 0.9) arrivals.push(seq)
  }
  shuffle(arrivals)
  return arrivals
}

/** Feeds arrivals to a puller backed by the full list on a flaky server; returns what the app got. */
async function simulate (total: number, arrivals: readonly number[], random: () => number) {
  const { scheduler, pulls, delivered, errors, puller } = harness({ random, maxPulls: 16 })
  const answer = (share: number): void => {
    for (const pull of pulls.splice(0, Math.ceil(pulls.length * share))) {
      if (random() < 0.4) pull.reject(new Error('flaky'))
      else pull.resolve(between(pull.range))
    }
  }
  for (let i = 0; i < arrivals.length; i++) {
    puller.accept(arrivals[i], msg(arrivals[i]))
    if (i % 25 === 0) {
      answer(random())
      await settle()
      scheduler.advance(100)
    }
  }
  for (let round = 0; (delivered.length < total || puller.active > 0) && round < 10_000; round++) {
    if (pulls.length === 0 && puller.active === 0) puller.noteLatest(total) // the reconnect trigger
    answer(1)
    await settle()
    scheduler.advance(1000)
  }
  return { delivered, errors }
}

t.test('seeded random arrivals: 1..5000 delivered exactly once, in order', async (t) => {
  const total = 5000
  const random = seededRandom(20240611)
  const orders = {
    'a random permutation': (a: number[]) => {
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1))
        ;[a[i], a[j]] = [a[j], a[i]]
      }
    },
    'push order with local reordering': (a: number[]) => {
      const keys = new Map(a.map((seq, i) => [i, seq + random() * 40]))
      const order = a.map((_, i) => i).sort((x, y) => (keys.get(x) as number) - (keys.get(y) as number))
      const copy = [...a]
      order.forEach((from, to) => (a[to] = copy[from]))
    },
  }
  for (const [name, shuffle] of Object.entries(orders)) {
    const { delivered, errors } = await simulate(total, arrivalsOf(total, random, shuffle), random)
    t.equal(delivered.length, total, `${name}: each once`)
    t.ok(delivered.every((seq, i) => seq === i + 1), `${name}: in order, none missing`)
    t.ok(errors.length > 0, `${name}: gaps that exhausted their attempts were recovered by a later trigger`)
  }
})
