// A send whose (sender, clientSeq) is already stored but no longer in the shard's memory (the clientSeq
// reused after the idempotency window) must not break the batch it lands in: the repeat gets the
// original receipt from the database and every other send is stored. A short window makes this testable.

import t from 'tap'
import { randomUUID } from 'node:crypto'
import { ImConnection, MessageType, type DecodedFrame } from '@implus/client'
import { api, registerAndLogin, startServer, type TestServer } from './helpers/server.js'

const WINDOW_MS = 1000
let server: TestServer

t.before(async () => {
  server = await startServer({ env: { IMPLUS_IDEMPOTENCY_WINDOW_MS: String(WINDOW_MS), IMPLUS_SHARDS: '1', IMPLUS_PRIVATE_CHAT: 'open' } })
})
t.teardown(async () => { await server?.stop() })

const answers = (clientSeq: string) => (f: DecodedFrame): boolean =>
  f.clientSeq === clientSeq && (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED)

t.test('a clientSeq reused after the window gets its original receipt; its batch-mates are stored', async t => {
  const [alice, bob, carol] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const a = await ImConnection.open({ transport: 'tcp', host: '127.0.0.1', port: server.ports.tcp! })
  const c = await ImConnection.open({ transport: 'tcp', host: '127.0.0.1', port: server.ports.tcp! })
  t.teardown(() => { a.close(); c.close() })
  await a.login(alice.userId, alice.token)
  await c.login(carol.userId, carol.token)

  const reused = randomUUID()
  a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'first', clientSeq: reused })
  const first = await a.next(answers(reused))
  t.equal(first.type, MessageType.MESSAGE_SEND_RECEIPT, 'the first send is stored')

  // The window is a span of time, so the test waits it out (with margin): no event marks its end.
  // Past coldUntil too (the shard started more than a window ago), so only the unique key catches it.
  await new Promise(resolve => setTimeout(resolve, WINDOW_MS * 2.5))

  const other = randomUUID()
  a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'again', clientSeq: reused })
  c.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'unrelated', clientSeq: other })
  const repeat = await a.next(answers(reused))
  const unrelated = await c.next(answers(other))
  t.equal(repeat.type, MessageType.MESSAGE_SEND_RECEIPT, `the repeat is answered with a receipt (${repeat.content})`)
  t.equal(repeat.uid, first.uid, 'the original msgId')
  t.equal(unrelated.type, MessageType.MESSAGE_SEND_RECEIPT, `another user's send in the same moment is stored (${unrelated.content})`)

  // Awaited, not looked up: a shard's log line reaches stdout through the main thread after its receipts went out.
  await t.resolves(server.waitForLog(l => l.msg === 'a batch met a stored copy of one of its sends; checking it against the database', 20_000),
    'the repeat reached the database (the unique key), past every in-memory check: the path under test ran')

  const pulled = await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 1, limit: 50 }, bob.token)
  t.same(pulled.body.data.messages.map((m: any) => m.content).sort(), ['first', 'unrelated'], 'bob has one copy of the first message and the unrelated one')
})
