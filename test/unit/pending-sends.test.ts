import t from 'tap'
import { PendingSends, SendError, type ChatFrame, type SettlingFrame } from '../../packages/client/src/sync/pending-sends.js'
import { FakeScheduler, settle } from '../helpers/fake-scheduler.js'

interface Receipt extends SettlingFrame {
  uid?: string
}

function harness (options: { maxPending?: number; expireMs?: number } = {}) {
  const scheduler = new FakeScheduler()
  const sent: ChatFrame[] = []
  let n = 0
  let connected = true
  const pending = new PendingSends<Receipt>({
    sendFrame: (frame) => {
      if (!connected) throw new Error('not connected')
      sent.push(frame)
    },
    scheduler,
    random: () => 0.5,
    newClientSeq: () => `cs-${++n}`,
    ...options,
  })
  return { scheduler, sent, pending, setConnected: (up: boolean) => (connected = up) }
}

const draft = { type: 3001, toId: '2', content: 'hello' }

t.test('a send is resent with the same clientSeq on a growing, capped timer', async (t) => {
  const { scheduler, sent, pending } = harness()
  void pending.send(draft).catch(() => undefined)
  t.same(sent, [{ ...draft, clientSeq: 'cs-1' }], 'sent at once with a clientSeq')
  const gaps: number[] = []
  for (let i = 0; i < 6; i++) {
    const [wait] = scheduler.pending
    gaps.push(wait)
    scheduler.advance(wait)
  }
  t.same(gaps, [2000, 4000, 8000, 16000, 30000, 30000], 'doubling, capped at 30 s')
  t.equal(sent.length, 7)
  t.ok(sent.every((f) => f.clientSeq === 'cs-1' && f.content === 'hello'), 'the same frame every time')
  pending.close()
})

t.test('a 2007 receipt resolves the send with it and stops resending', async (t) => {
  const { scheduler, sent, pending } = harness()
  const receipt = pending.send(draft)
  scheduler.advance(2000)
  const frame: Receipt = { type: 2007, clientSeq: 'cs-1', uid: '99' }
  t.equal(pending.handleFrame(frame), true)
  t.equal(await receipt, frame)
  t.equal(pending.size, 0)
  t.same(scheduler.pending, [])
  scheduler.advance(60_000)
  t.equal(sent.length, 2)
  t.equal(pending.handleFrame(frame), false, 'a repeated receipt is not ours any more')
})

t.test('a 1006 rejects the send with its errorCode and reason', async (t) => {
  const { scheduler, pending } = harness()
  const result = pending.send(draft)
  t.equal(pending.handleFrame({ type: 1006, clientSeq: 'cs-1', errorCode: 403, content: 'not friends' }), true)
  const error = await result.then(
    () => null,
    (e: unknown) => e
  )
  t.ok(error instanceof SendError)
  t.match(error, { errorCode: 403, reason: 'not friends', clientSeq: 'cs-1' })
  t.same(scheduler.pending, [])
})

t.test('429 and 503 are not final: the send is resent with the same clientSeq, backing off', async (t) => {
  const { scheduler, sent, pending } = harness()
  const result = pending.send(draft)
  t.equal(pending.handleFrame({ type: 1006, clientSeq: 'cs-1', errorCode: 429, content: 'rate limited' }), true)
  t.equal(pending.size, 1, 'still pending after a 429')
  scheduler.advance(2000)
  t.equal(pending.handleFrame({ type: 1006, clientSeq: 'cs-1', errorCode: 503, content: 'server shutting down' }), true)
  t.equal(pending.has('cs-1'), true, 'still pending after a 503')
  scheduler.advance(4000)
  t.same(sent.map((f) => f.clientSeq), ['cs-1', 'cs-1', 'cs-1'], 'resent on the back-off timer')
  pending.handleFrame({ type: 2007, clientSeq: 'cs-1' })
  t.same(await result, { type: 2007, clientSeq: 'cs-1' }, 'settled by the receipt')
})

t.test('the final codes reject at once', async (t) => {
  for (const code of [400, 403, 404, 413]) {
    const { pending } = harness()
    const result = pending.send(draft)
    pending.handleFrame({ type: 1006, clientSeq: 'cs-1', errorCode: code, content: 'no' })
    await t.rejects(result, { name: 'SendError', errorCode: code }, `${code} is final`)
  }
})

t.test('a reconnect flush is paced below the rate the server told', async (t) => {
  const { scheduler, sent, pending, setConnected } = harness()
  setConnected(false)
  const results = Array.from({ length: 100 }, () => pending.send(draft))
  setConnected(true)
  pending.setRate(20, 100)
  pending.reconnected()
  t.equal(sent.length, 50, 'half the burst goes at once')
  scheduler.advance(1000)
  t.equal(sent.length, 66, 'then 80 % of the rate: 16 a second')
  scheduler.advance(1000)
  t.equal(sent.length, 82)
  for (let i = 1; i <= 100; i++) pending.handleFrame({ type: 2007, clientSeq: `cs-${i}` })
  t.equal((await Promise.all(results)).length, 100, 'every send settles')
  scheduler.advance(60_000)
  t.equal(sent.length, 82, 'settled sends waiting in the queue are not transmitted')
  t.equal(new Set(sent.map((f) => f.clientSeq)).size, 82, 'each transmitted once')
})

t.test('other frames and other clientSeqs do not settle a send', async (t) => {
  const { pending } = harness()
  void pending.send(draft).catch(() => undefined)
  t.equal(pending.handleFrame({ type: 2007, clientSeq: 'someone-else' }), false)
  t.equal(pending.handleFrame({ type: 1007, clientSeq: 'cs-1' }), false, 'the group notification is not the receipt')
  t.equal(pending.handleFrame({ type: 2007 }), false)
  t.equal(pending.size, 1)
  pending.close()
})

t.test('after a reconnect everything pending is resent at once, same clientSeqs', async (t) => {
  const { scheduler, sent, pending, setConnected } = harness()
  setConnected(false)
  const first = pending.send(draft)
  const second = pending.send({ type: 3002, conversationId: 'group_5', content: 'hi all' })
  scheduler.advance(6000)
  t.same(sent, [], 'nothing went out while disconnected')
  setConnected(true)
  pending.reconnected()
  t.same(sent.map((f) => f.clientSeq), ['cs-1', 'cs-2'])
  t.same(scheduler.pending, [2000, 2000], 'back-off starts over')
  pending.handleFrame({ type: 2007, clientSeq: 'cs-2' })
  pending.handleFrame({ type: 2007, clientSeq: 'cs-1' })
  t.same(await Promise.all([first, second]), [{ type: 2007, clientSeq: 'cs-1' }, { type: 2007, clientSeq: 'cs-2' }])
})

t.test('the queue is bounded', async (t) => {
  const { sent, pending } = harness({ maxPending: 2 })
  void pending.send(draft).catch(() => undefined)
  void pending.send(draft).catch(() => undefined)
  await t.rejects(pending.send(draft), { name: 'SendError', errorCode: 429 })
  t.equal(sent.length, 2, 'the refused send was not transmitted')
  pending.close()
})

t.test('a send unanswered within the idempotency window is given up', async (t) => {
  const { scheduler, sent, pending } = harness({ expireMs: 10_000 })
  const result = pending.send(draft)
  scheduler.advance(10_000)
  await t.rejects(result, { name: 'SendError', errorCode: 408 })
  t.same(sent.map((f) => f.clientSeq), ['cs-1', 'cs-1', 'cs-1'], 'resent at 2 s and 6 s, not after the deadline')
  t.same(scheduler.pending, [])
})

t.test('close rejects everything pending', async (t) => {
  const { scheduler, pending } = harness()
  const result = pending.send(draft)
  pending.close()
  await t.rejects(result, { name: 'SendError', errorCode: 499 })
  t.same(scheduler.pending, [])
})

t.test('clientSeqs default to random UUIDs', async (t) => {
  const sent: ChatFrame[] = []
  const pending = new PendingSends({ sendFrame: (f) => sent.push(f), scheduler: new FakeScheduler() })
  void pending.send(draft).catch(() => undefined)
  void pending.send(draft).catch(() => undefined)
  await settle()
  t.match(sent[0].clientSeq, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.not(sent[0].clientSeq, sent[1].clientSeq)
  pending.close()
})
