// LoopDelay (src/loop-delay.ts): a thread's event-loop stall shows as a late timer sample of its length.
import t from 'tap'
import { LoopDelay } from '../../src/loop-delay.js'
import { LATENCY_BUCKETS } from '../../src/histogram.js'

/** Resolves once `done()` is true, checking every few milliseconds (the loop stays free meanwhile). */
async function until (done: () => boolean): Promise<void> {
  while (!done()) await new Promise(resolve => setTimeout(resolve, 5))
}

t.test('a 150 ms synchronous stall is recorded as a sample above 100 ms', async t => {
  const delay = new LoopDelay()
  t.teardown(() => delay.stop())
  await until(() => delay.take().count > 0) // sampling is running; start from an empty histogram
  const stalledFor = 150
  const stallEnd = performance.now() + stalledFor
  while (performance.now() < stallEnd) { /* the stall under test */ }
  const above100ms = LATENCY_BUCKETS.findIndex(b => b >= 0.1) + 1
  let late = 0
  let samples = 0
  await until(() => {
    const taken = delay.take()
    samples += taken.count
    late += taken.buckets.slice(above100ms).reduce((a, b) => a + b, 0)
    return samples > 0
  })
  t.ok(late >= 1, `the first sample after the stall is later than 100 ms (${late} of ${samples})`)
})
