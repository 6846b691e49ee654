// PasswordHasher (src/auth/passwords.ts): scrypt on a piscina pool whose queue is bounded.
import t from 'tap'
import { PasswordHasher } from '../../src/auth/passwords.js'

t.test('hash and verify round-trip', async t => {
  const hasher = new PasswordHasher(10, 1)
  t.teardown(() => hasher.close())
  const hash = await hasher.hash('correct-horse-battery')
  t.ok(await hasher.verify('correct-horse-battery', hash), 'the right password verifies')
  t.notOk(await hasher.verify('wrong-horse-battery', hash), 'a wrong one does not')
})

t.test('past the queue bound a hash is refused with 503 at once; the queued ones still finish', async t => {
  const hasher = new PasswordHasher(14, 1, 2)
  t.teardown(() => hasher.close())
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => hasher.hash(`password-${i}`)))
  const refused = outcomes.filter(o => o.status === 'rejected').map(o => (o as PromiseRejectedResult).reason as { status?: number, message: string })
  const done = outcomes.filter(o => o.status === 'fulfilled')
  t.ok(refused.length >= 7, `at most one running and two queued: ${refused.length} of 10 refused`)
  t.ok(refused.every(err => err.status === 503), 'each refusal is an AppError 503')
  t.match(refused[0]?.message, /too many password checks waiting/, 'saying why')
  t.ok(done.length >= 1, `the accepted ones were hashed (${done.length})`)
})
