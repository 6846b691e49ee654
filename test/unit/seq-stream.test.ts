import t from 'tap'
import { SeqStream, classify, findGaps } from '../../packages/client/src/sync/stream.js'

interface Msg {
  seq: number
  body: string
}

const msg = (seq: number, body = `m${seq}`): Msg => ({ seq, body })
const seqs = (messages: readonly Msg[]): number[] => messages.map((m) => m.seq)
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
const newStream = (options: { position?: number; capacity?: number; maxPulls?: number; maxPullSize?: number } = {}) =>
  new SeqStream<Msg>({ seqOf: (m) => m.seq, ...options })

t.test('classify compares a seq with the one expected', async (t) => {
  t.equal(classify(5, 5), 'next')
  t.equal(classify(5, 6), 'early')
  t.equal(classify(5, 4), 'duplicate')
  t.equal(classify(5, 0), 'invalid')
  t.equal(classify(5, 2.5), 'invalid')
  t.equal(classify(5, Number.NaN), 'invalid')
})

t.test('findGaps reports uncovered holes, cut to size and count', async (t) => {
  t.same(findGaps(0, 10, [3, 4, 8], [], 100, 10), [{ from: 1, to: 2 }, { from: 5, to: 7 }, { from: 9, to: 10 }])
  t.same(findGaps(0, 10, [], [{ from: 2, to: 6 }, { from: 4, to: 8 }], 100, 10), [{ from: 1, to: 1 }, { from: 9, to: 10 }], 'overlapping spans')
  t.same(findGaps(0, 10, [], [], 4, 10), [{ from: 1, to: 4 }, { from: 5, to: 8 }, { from: 9, to: 10 }], 'cut to maxSize')
  t.same(findGaps(0, 10, [], [], 4, 2), [{ from: 1, to: 4 }, { from: 5, to: 8 }], 'at most maxCount')
  t.same(findGaps(10, 10, [], [], 4, 2), [], 'nothing past the position')
})

t.test('in-order messages are delivered at once', async (t) => {
  const stream = newStream()
  for (const seq of [1, 2, 3]) {
    const step = stream.accept(seq, msg(seq))
    t.same(seqs(step.deliver), [seq])
    t.same(step.gaps, [])
  }
  t.equal(stream.position, 3)
  t.equal(stream.buffered, 0)
})

t.test('a stream resumes from a stored position', async (t) => {
  const stream = newStream({ position: 41 })
  t.same(seqs(stream.accept(41, msg(41)).deliver), [], 'the stored position counts as delivered')
  t.same(seqs(stream.accept(42, msg(42)).deliver), [42])
})

t.test('duplicates and seqs at or below the position are dropped', async (t) => {
  const stream = newStream()
  stream.accept(1, msg(1))
  stream.accept(2, msg(2))
  t.same(stream.accept(2, msg(2)).deliver, [], 'repeat of the position')
  t.same(stream.accept(1, msg(1)).deliver, [], 'below the position')
  stream.accept(5, msg(5, 'first'))
  stream.accept(5, msg(5, 'second'))
  t.equal(stream.buffered, 1, 'an early arrival is held once')
  const step = stream.fill(3, 4, [msg(3), msg(4)])
  t.same(step.deliver, [msg(3), msg(4), msg(5, 'first')])
})

t.test('invalid seqs change nothing', async (t) => {
  const stream = newStream()
  for (const bad of [0, -3, 1.5, Number.NaN]) t.same(stream.accept(bad, msg(bad)), { deliver: [], gaps: [] })
  t.equal(stream.position, 0)
  t.equal(stream.highest, 0)
})

t.test('early arrivals wait and are released when the gap fills by push', async (t) => {
  const stream = newStream()
  stream.accept(1, msg(1))
  const early = stream.accept(4, msg(4))
  t.same(early.deliver, [])
  t.same(early.gaps, [{ from: 2, to: 3 }], 'the gap is reported')
  t.same(stream.accept(5, msg(5)).gaps, [], 'a claimed gap is not reported twice')
  t.same(stream.accept(3, msg(3)).deliver, [])
  t.same(seqs(stream.accept(2, msg(2)).deliver), [2, 3, 4, 5])
  t.equal(stream.position, 5)
  t.equal(stream.buffered, 0)
  t.same(stream.fill(2, 3, [msg(2), msg(3)]).deliver, [], 'the pull, late, delivers nothing twice')
  t.equal(stream.pulling, 0)
})

t.test('pulled messages are delivered and release what waited behind them', async (t) => {
  const stream = newStream()
  const { gaps } = stream.accept(4, msg(4))
  t.same(gaps, [{ from: 1, to: 3 }])
  const step = stream.fill(1, 3, [msg(3), msg(1), msg(2), msg(2)])
  t.same(seqs(step.deliver), [1, 2, 3, 4], 'sorted, deduplicated, then the held 4')
  t.equal(stream.pulling, 0)
})

t.test('a seq that pull cannot fill is skipped as empty', async (t) => {
  const stream = newStream()
  stream.accept(1, msg(1))
  t.same(stream.accept(6, msg(6)).gaps, [{ from: 2, to: 5 }])
  const step = stream.fill(2, 5, [msg(3)])
  t.same(seqs(step.deliver), [3, 6], '2, 4 and 5 do not exist on the server')
  t.equal(stream.position, 6)
  t.same(seqs(stream.accept(7, msg(7)).deliver), [7], 'the stream goes on')
})

t.test('a skipped seq that turns up later is delivered once, late', async (t) => {
  const stream = newStream()
  stream.accept(3, msg(3))
  stream.fill(1, 2, [msg(1)])
  t.equal(stream.position, 3)
  t.same(seqs(stream.accept(2, msg(2)).deliver), [2], 'committed after the pull read past it')
  t.same(stream.accept(2, msg(2)).deliver, [], 'a resend of it is a duplicate')
})

t.test('the out-of-order buffer holds 1,000 and drops the farthest ahead', async (t) => {
  const stream = newStream()
  const gaps = []
  for (let seq = 2; seq <= 1002; seq++) gaps.push(...stream.accept(seq, msg(seq)).gaps)
  t.equal(stream.buffered, 1000, 'bounded')
  t.equal(stream.highest, 1002, 'the dropped seq is still known to exist')
  t.same(gaps, [{ from: 1, to: 1 }, { from: 1002, to: 1002 }], 'so it is pulled')
  const step = stream.fill(1, 1, [msg(1)])
  t.same(seqs(step.deliver), range(1, 1001))
  t.same(seqs(stream.fill(1002, 1002, [msg(1002)]).deliver), [1002])
})

t.test('a full buffer evicts its farthest entry for a nearer one', async (t) => {
  const stream = newStream({ capacity: 3 })
  stream.accept(1, msg(1))
  const gaps = [5, 6, 7].flatMap((seq) => stream.accept(seq, msg(seq)).gaps)
  t.same(gaps, [{ from: 2, to: 4 }])
  t.same(stream.accept(3, msg(3)).gaps, [{ from: 7, to: 7 }], 'the evicted 7 is to be pulled again')
  t.equal(stream.buffered, 3)
  t.same(seqs(stream.fill(2, 4, [msg(2), msg(4)]).deliver), [2, 3, 4, 5, 6], 'the held 3 fills the hole in the pull')
  t.same(seqs(stream.fill(7, 7, [msg(7)]).deliver), [7])
})

t.test('many gaps are claimed and filled independently, delivery stays in order', async (t) => {
  const stream = newStream()
  const gaps = []
  for (const seq of [1, 3, 5, 7, 9, 11]) gaps.push(...stream.accept(seq, msg(seq)).gaps)
  t.same(gaps, [2, 4, 6, 8, 10].map((s) => ({ from: s, to: s })), 'one claim per gap')
  t.equal(stream.pulling, 5)
  for (const seq of [10, 8, 6, 4]) t.same(stream.fill(seq, seq, [msg(seq)]).deliver, [], `fill of ${seq} waits for 2`)
  t.same(seqs(stream.fill(2, 2, [msg(2)]).deliver), range(2, 11))
  t.equal(stream.pulling, 0)
})

t.test('a long gap is pulled in bounded ranges, a bounded number at a time', async (t) => {
  const stream = newStream({ maxPulls: 2, maxPullSize: 200 })
  t.same(stream.noteLatest(1000).gaps, [{ from: 1, to: 200 }, { from: 201, to: 400 }])
  t.same(stream.noteLatest(1000).gaps, [], 'no room for more while two are claimed')
  const step = stream.fill(1, 200, range(1, 200).map((s) => msg(s)))
  t.equal(step.deliver.length, 200)
  t.same(step.gaps, [{ from: 401, to: 600 }], 'a settled pull makes room for the next range')
})

t.test('a released gap is reported again by the next trigger', async (t) => {
  const stream = newStream()
  const [gap] = stream.accept(3, msg(3)).gaps
  stream.release(gap)
  t.equal(stream.pulling, 0)
  t.same(stream.accept(4, msg(4)).gaps, [{ from: 1, to: 2 }], 'a later message')
  stream.release({ from: 1, to: 2 })
  t.same(stream.noteLatest(4).gaps, [{ from: 1, to: 2 }], 'or a reconnect')
})

t.test('reset forgets held messages and claims', async (t) => {
  const stream = newStream()
  stream.accept(5, msg(5))
  stream.reset(10)
  t.equal(stream.position, 10)
  t.equal(stream.buffered, 0)
  t.equal(stream.pulling, 0)
  t.same(seqs(stream.accept(11, msg(11)).deliver), [11])
})

t.test('options are validated', async (t) => {
  t.throws(() => newStream({ capacity: 0 }), /capacity/)
  t.throws(() => newStream({ position: -1 }), /position/)
})
