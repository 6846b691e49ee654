// LoginGuard (src/auth/login-guard.ts): password guesses per user, counted before the check, forgiven by a success.
import t from 'tap'
import { LoginGuard, LOGIN_FAILURE_WINDOW_MS } from '../../src/auth/login-guard.js'
import { AppError } from '../../src/errors.js'

const T0 = 1_750_000_000_000

function guardAt (limit: number): { guard: LoginGuard, clock: { now: number } } {
  const clock = { now: T0 }
  return { guard: new LoginGuard(limit, LOGIN_FAILURE_WINDOW_MS, () => clock.now), clock }
}

function refusal (attempt: () => void): AppError | null {
  try {
    attempt()
    return null
  } catch (err) {
    return err as AppError
  }
}

t.test('the limit-th attempt passes, the next is 429 with the seconds left, other users are untouched', async t => {
  const { guard, clock } = guardAt(3)
  for (let i = 1; i <= 3; i++) t.equal(refusal(() => guard.attempt('1001')), null, `attempt ${i} passes`)
  clock.now += 60_000
  const err = refusal(() => guard.attempt('1001'))
  t.equal(err?.status, 429, 'attempt 4 is refused')
  t.match(err?.message, /retry in 840 s/, 'the message says when the window ends (15 min after the first attempt)')
  t.equal(refusal(() => guard.attempt('1002')), null, 'another user is not affected')
})

t.test('concurrent attempts count before any of them is checked', async t => {
  const { guard } = guardAt(2)
  guard.attempt('1001')
  guard.attempt('1001')
  t.equal(refusal(() => guard.attempt('1001'))?.status, 429, 'a third guess in flight is refused before the first two finish')
})

t.test('a success forgives; the window ends by itself', async t => {
  const { guard, clock } = guardAt(2)
  guard.attempt('1001')
  guard.attempt('1001')
  guard.succeeded('1001')
  t.equal(refusal(() => guard.attempt('1001')), null, 'after a success the count starts again')
  guard.attempt('1001')
  t.equal(refusal(() => guard.attempt('1001'))?.status, 429, 'limit reached again')
  clock.now += LOGIN_FAILURE_WINDOW_MS
  t.equal(refusal(() => guard.attempt('1001')), null, 'once the window has passed, attempts are allowed again')
})

t.test('an attempt whose password could not be checked does not count', async t => {
  const { guard } = guardAt(2)
  guard.attempt('1001')
  guard.attempt('1001')
  guard.notChecked('1001')
  t.equal(refusal(() => guard.attempt('1001')), null, 'the busy attempt was given back')
  t.equal(refusal(() => guard.attempt('1001'))?.status, 429, 'and the limit still holds')
})

t.test('a limit of 0 turns the guard off', async t => {
  const { guard } = guardAt(0)
  for (let i = 0; i < 1000; i++) guard.attempt('1001')
  t.equal(refusal(() => guard.attempt('1001')), null)
})
