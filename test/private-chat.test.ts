// Issue 4: private chat end to end against the real server (dist/), over real sockets. The full flow across
// transports, order and contiguous seqs, every refusal, idempotent clientSeq, offline catch-up by pull,
// resends, read receipts and recall, kill -9 durability, and a gap-free userSeq under concurrent senders.

import t from 'tap'
import { ImConnection, MessageType, type DecodedFrame } from '@implus/client'
import { ADMIN_TOKEN, api, registerAndLogin, startServer, uniqueUserId, type ApiResponse, type TestServer, waitFor, within } from './helpers/server.js'

type Kind = 'ws' | 'tcp' | 'udp'
type Tap = typeof t
interface User { userId: string, token: string }

let server: TestServer

t.before(async () => {
  // Two shards so conversations really spread; a rate limit high enough that the 1,000-message burst is
  // not throttled (the rate limit has its own test in transports.test.ts).
  server = await startServer({ env: { IMPLUS_SHARDS: '2', IMPLUS_RATE_LIMIT: '100000' } })
})
t.teardown(async () => {
  await server?.stop()
})

const opened = new Set<ImConnection>()
t.afterEach(() => {
  for (const c of opened) c.close()
  opened.clear()
})

async function online (t: Tap, kind: Kind, user: User, deviceId?: string): Promise<ImConnection> {
  const port = server.ports[kind]
  if (port === undefined) throw new Error(`no ${kind} port`)
  const c = await ImConnection.open({ transport: kind, host: '127.0.0.1', port, token: kind === 'udp' ? user.token : undefined })
  opened.add(c)
  const res = await c.login(user.userId, user.token, deviceId)
  t.equal(res.errorCode, 0, `${kind} login of ${user.userId} (${res.content})`)
  return c
}

async function befriend (a: User, b: User): Promise<void> {
  const res = await api(server, 'POST', '/users/friends', { friendId: b.userId }, a.token)
  if (res.status !== 200) throw new Error(`friends ${a.userId} -> ${b.userId}: ${res.status} ${JSON.stringify(res.body)}`)
}

async function friends (): Promise<[User, User]> {
  const a = await registerAndLogin(server)
  const b = await registerAndLogin(server)
  await befriend(a, b)
  return [a, b]
}

function conversationOf (a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? `private_${a}_${b}` : `private_${b}_${a}`
}

let counter = 0
function newClientSeq (): string {
  return `pc-${process.pid}-${++counter}-${Math.random().toString(36).slice(2, 10)}`
}

const isPush = (f: DecodedFrame): boolean => f.type === MessageType.PRIVATE_CHAT
const answers = (clientSeq: string) => (f: DecodedFrame): boolean =>
  f.clientSeq === clientSeq && (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED)

/** Sends one 3001 and returns the 2007 or 1006 that answers it. */
async function send (c: ImConnection, toId: string, content: string, extra: Record<string, unknown> = {}, clientSeq = newClientSeq()): Promise<DecodedFrame> {
  c.send({ type: MessageType.PRIVATE_CHAT, toId, content, clientSeq, ...extra })
  return await c.next(answers(clientSeq), 10_000)
}

/** Collects the next `n` 3001 pushes (as they arrive, claimed from the queue). */
function collectPushes (c: ImConnection, n: number, timeoutMs: number): Promise<DecodedFrame[]> {
  const got: DecodedFrame[] = []
  return within((async () => {
    while (got.length < n) got.push(await c.next(isPush, timeoutMs))
    return got
  })(), timeoutMs, `${n} pushes (got ${got.length})`)
}

// ---- pull API ----------------------------------------------------------------------------------------------

async function pullRoute (t: Tap, path: string, body: unknown, token: string): Promise<ApiResponse> {
  const res = await api(server, 'POST', path, body, token)
  t.equal(res.status, 200, `POST ${path} 200 (${JSON.stringify(res.body).slice(0, 200)})`)
  return res
}

/** Every message of the caller from `fromSeq` on, by pull-batch pages of `limit`. */
async function pullAll (t: Tap, user: User, fromSeq: number, limit: number): Promise<{ messages: any[], pages: any[] }> {
  const messages: any[] = []
  const pages: any[] = []
  let next = fromSeq
  for (let page = 0; page < 1000; page++) {
    const res = await pullRoute(t, '/api/messages/pull-batch', { fromSeq: next, limit }, user.token)
    const data = res.body.data
    pages.push(data)
    messages.push(...data.messages)
    if (!data.hasMore) return { messages, pages }
    if (data.nextSeq <= next) throw new Error(`pull-batch nextSeq did not advance (${next} -> ${data.nextSeq})`)
    next = data.nextSeq
  }
  throw new Error('pull-batch never said hasMore: false')
}

// ---- tests ------------------------------------------------------------------------------------------------

t.test('full flow between two users on different transports', async t => {
  for (const [ka, kb] of [['ws', 'tcp'], ['tcp', 'udp']] as const) {
    const [alice, bob] = await friends()
    const conversationId = conversationOf(alice.userId, bob.userId)
    const a = await online(t, ka, alice)
    // Alice's second device (on the third transport) sees her own messages with her userSeq.
    const a2 = await online(t, ka === 'ws' ? 'udp' : 'ws', alice, 'second')
    const b = await online(t, kb, bob)
    const label = `${ka} -> ${kb}`

    const cs = newClientSeq()
    const receipt = await send(a, bob.userId, `hello from ${ka}`, {}, cs)
    t.equal(receipt.type, MessageType.MESSAGE_SEND_RECEIPT, `${label}: 2007 (${receipt.content})`)
    t.equal(receipt.clientSeq, cs, `${label}: receipt clientSeq`)
    t.match(receipt.uid, /^[1-9]\d*$/, `${label}: receipt uid is a decimal id`)
    t.equal(receipt.conversationId, conversationId, `${label}: receipt conversationId ${conversationId}`)
    t.equal(receipt.conversationSeq, 1, `${label}: first conversationSeq is 1`)
    t.equal(receipt.userSeq, 1, `${label}: sender's first userSeq is 1`)
    t.ok(receipt.timestamp > 0, `${label}: receipt timestamp`)

    const push = await b.next(isPush)
    t.equal(push.uid, receipt.uid, `${label}: push uid = receipt uid`)
    t.equal(push.fromId, alice.userId, `${label}: push fromId`)
    t.equal(push.toId, bob.userId, `${label}: push toId`)
    t.equal(push.conversationId, conversationId, `${label}: push conversationId`)
    t.equal(push.content, `hello from ${ka}`, `${label}: push content`)
    t.equal(push.contentType, 1, `${label}: push contentType 1 (text) by default`)
    t.equal(push.userSeq, 1, `${label}: receiver's userSeq 1`)
    t.equal(push.conversationSeq, 1, `${label}: push conversationSeq 1`)
    t.ok(push.timestamp > 0, `${label}: push timestamp`)
    t.equal(push.retry, 0, `${label}: first push has retry 0`)
    b.send({ type: MessageType.MESSAGE_ACK, uid: push.uid })

    const copy = await a2.next(isPush)
    t.equal(copy.uid, receipt.uid, `${label}: the sender's other device gets the message`)
    t.equal(copy.userSeq, receipt.userSeq, `${label}: ... with the sender's userSeq`)
    t.equal(copy.fromId, alice.userId, `${label}: ... fromId the sender`)
    a2.send({ type: MessageType.MESSAGE_ACK, uid: copy.uid })

    // The reply, the other way.
    const reply = await send(b, alice.userId, `hello back from ${kb}`, { contentType: 1 })
    t.equal(reply.type, MessageType.MESSAGE_SEND_RECEIPT, `${kb} -> ${ka}: 2007`)
    t.equal(reply.conversationSeq, 2, `${kb} -> ${ka}: conversationSeq 2`)
    t.equal(reply.userSeq, 2, `${kb} -> ${ka}: bob's userSeq 2 (his first was the received message)`)
    const [p1, p2] = await Promise.all([a.next(isPush), a2.next(isPush)])
    // Checked once a later push reached the sending device: an echo of its own message would have come first.
    t.notOk(a.frames.some(f => isPush(f) && f.uid === receipt.uid), `${label}: the sending device gets no push of its own message`)
    for (const p of [p1, p2]) {
      t.equal(p.uid, reply.uid, `${kb} -> ${ka}: push uid`)
      t.equal(p.content, `hello back from ${kb}`, `${kb} -> ${ka}: push content`)
      t.equal(p.userSeq, 2, `${kb} -> ${ka}: alice's userSeq 2`)
      t.equal(p.fromId, bob.userId, `${kb} -> ${ka}: fromId bob`)
    }
    a.send({ type: MessageType.BATCH_MESSAGE_ACK, content: p1.uid })
    a2.send({ type: MessageType.BATCH_MESSAGE_ACK, content: p2.uid })
  }
})

t.test('1,000 messages in order with contiguous seqs on both sides', async t => {
  const [alice, bob] = await friends()
  const a = await online(t, 'ws', alice)
  const b = await online(t, 'tcp', bob)
  const N = 1000
  const seqs = Array.from({ length: N }, () => newClientSeq())
  const pushes = collectPushes(b, N, 30_000)
  for (let i = 0; i < N; i++) a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: `msg ${i}`, clientSeq: seqs[i] })
  const receipts: DecodedFrame[] = []
  for (let i = 0; i < N; i++) receipts.push(await a.next(answers(seqs[i]!), 30_000))
  const got = await pushes
  for (let i = 0; i < N; i += 100) b.send({ type: MessageType.BATCH_MESSAGE_ACK, content: got.slice(i, i + 100).map(p => p.uid).join(',') })

  t.equal(receipts.filter(r => r.type === MessageType.MESSAGE_SEND_RECEIPT).length, N, 'every send got a 2007')
  const range = (from: number): number[] => Array.from({ length: N }, (_, i) => from + i)
  t.same(receipts.map(r => r.userSeq), range(1), "sender's userSeqs are 1..1000 in send order")
  t.same(receipts.map(r => r.conversationSeq), range(1), 'conversationSeqs are 1..1000 in send order')
  t.same(got.map(p => p.content), range(0).map(i => `msg ${i}`), 'pushes arrive in send order')
  t.same(got.map(p => p.userSeq), range(1), "receiver's userSeqs are 1..1000")
  t.same(got.map(p => p.conversationSeq), range(1), 'push conversationSeqs are 1..1000')
  t.same(got.map(p => p.uid), receipts.map(r => r.uid), 'push uids match the receipts, in order')
  t.equal(new Set(receipts.map(r => r.uid)).size, N, 'uids are unique')

  // Shards report once a second: wait until /metrics has counted at least these sends' receipts.
  const sendCount = async (): Promise<number> => {
    const text = await (await fetch(`${server.httpUrl}/metrics`)).text()
    let total = 0
    for (const m of text.matchAll(/^implus_send_seconds_count\{shard="\d+"\} (\d+)$/gm)) total += Number(m[1])
    return total
  }
  await t.resolves(waitFor(async () => await sendCount() >= N, 10_000), `implus_send_seconds counts every receipt (at least ${N})`)
})

/** Per label value, the summed `_count` of a histogram family's series on /metrics. */
async function histogramCounts (family: string, label: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text()
  const counts = new Map<string, number>()
  for (const m of text.matchAll(new RegExp(`^${family}_count\\{[^}]*${label}="([^"]+)"[^}]*\\} (\\d+)$`, 'gm'))) {
    counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + Number(m[2]))
  }
  return counts
}

t.test('/metrics breaks every send into stages and has the event-loop delay of every thread', async t => {
  const [alice, bob] = await friends()
  const a = await online(t, 'ws', alice)
  const b = await online(t, 'tcp', bob)
  const stagesBefore = await histogramCounts('implus_send_stage_seconds', 'stage')
  const loopsBefore = await histogramCounts('implus_eventloop_delay_seconds', 'thread')
  const N = 20
  for (let i = 0; i < N; i++) t.equal((await send(a, bob.userId, `staged ${i}`)).type, MessageType.MESSAGE_SEND_RECEIPT, `send ${i} stored`)
  t.equal((await collectPushes(b, N, 10_000)).length, N, 'every push arrived')

  const stages = ['handoff', 'queue', 'check', 'numbering', 'commit_wait', 'commit', 'delivery']
  // A send passes every stage once; delivery counts frames written (the receipt and the push at least).
  const moved = async (): Promise<boolean> => {
    const now = await histogramCounts('implus_send_stage_seconds', 'stage')
    return stages.every(s => (now.get(s) ?? 0) - (stagesBefore.get(s) ?? 0) >= (s === 'delivery' ? 2 * N : N))
  }
  await t.resolves(waitFor(moved, 10_000), `every stage (${stages.join(', ')}) counted the ${N} sends`)
  const threads = ['main', 'shard-0', 'shard-1']
  const ticked = async (): Promise<boolean> => {
    const now = await histogramCounts('implus_eventloop_delay_seconds', 'thread')
    return threads.every(th => (now.get(th) ?? 0) > (loopsBefore.get(th) ?? 0))
  }
  await t.resolves(waitFor(ticked, 10_000), `event-loop delay sampled on every thread (${threads.join(', ')})`)
  const now = await histogramCounts('implus_eventloop_delay_seconds', 'thread')
  t.same([...now.keys()].sort(), threads, 'one series per thread, no other')
})

t.test('each refusal gets 1006 with the right code', async t => {
  const alice = await registerAndLogin(server)
  const bob = await registerAndLogin(server)
  const a = await online(t, 'tcp', alice)
  const b = await online(t, 'ws', bob)

  let r = await send(a, bob.userId, 'refused: not friends')
  t.equal(r.type, MessageType.MESSAGE_DELIVERY_FAILED, 'not friends: 1006')
  t.equal(r.errorCode, 403, 'not friends: 403')
  t.type(r.content, 'string', `reason: ${r.content}`)

  r = await send(a, uniqueUserId(), 'refused: unknown user')
  t.equal(r.type, MessageType.MESSAGE_DELIVERY_FAILED, 'unknown user: 1006')
  t.equal(r.errorCode, 404, 'unknown user: 404')

  await befriend(alice, bob)
  r = await send(a, bob.userId, 'refused: spoofed', { fromId: bob.userId })
  t.equal(r.errorCode, 403, 'spoofed fromId: 1006 403')
  t.equal(r.type, MessageType.MESSAGE_DELIVERY_FAILED, 'spoofed fromId: 1006')
  r = await send(a, alice.userId, 'refused: to yourself')
  t.equal(r.type, MessageType.MESSAGE_DELIVERY_FAILED, 'to yourself: 1006')
  t.equal(r.errorCode, 400, 'to yourself: 400')
  r = await send(a, bob.userId, 'own fromId is fine', { fromId: alice.userId })
  t.equal(r.type, MessageType.MESSAGE_SEND_RECEIPT, 'the sender\'s own fromId is accepted')

  // Blacklisted: bob blocks alice; they stay friends.
  t.equal((await api(server, 'POST', '/users/blacklist', { userId: alice.userId }, bob.token)).status, 200, 'bob blacklists alice')
  r = await send(a, bob.userId, 'refused: blacklisted')
  t.equal(r.type, MessageType.MESSAGE_DELIVERY_FAILED, 'blacklisted: 1006')
  t.equal(r.errorCode, 403, 'blacklisted: 403')
  r = await send(b, alice.userId, 'bob may still write to alice')
  t.equal(r.type, MessageType.MESSAGE_SEND_RECEIPT, 'the blocker can still send to the blocked user')
  t.equal((await api(server, 'DELETE', `/users/blacklist/${alice.userId}`, undefined, bob.token)).status, 200, 'bob unblocks alice')
  r = await send(a, bob.userId, 'after unblock')
  t.equal(r.type, MessageType.MESSAGE_SEND_RECEIPT, 'after the unblock alice can send again')

  // Muted.
  const future = new Date(Date.now() + 3600_000).toISOString()
  let admin = await api(server, 'POST', `/admin/users/${alice.userId}/status`, { status: 1, mutedUntil: future }, ADMIN_TOKEN)
  t.equal(admin.status, 200, `admin mutes alice (${JSON.stringify(admin.body)})`)
  r = await send(a, bob.userId, 'refused: muted')
  t.equal(r.type, MessageType.MESSAGE_DELIVERY_FAILED, 'muted: 1006')
  t.equal(r.errorCode, 403, 'muted: 403')
  t.equal((await a.heartbeat()).content, 'pong', 'a muted user stays connected')
  admin = await api(server, 'POST', `/admin/users/${alice.userId}/status`, { status: 1, mutedUntil: null }, ADMIN_TOKEN)
  t.equal(admin.status, 200, 'admin unmutes alice')
  r = await send(a, bob.userId, 'after unmute')
  t.equal(r.type, MessageType.MESSAGE_SEND_RECEIPT, 'after the unmute alice can send again')

  // The receiver saw only the accepted messages.
  const accepted = ['own fromId is fine', 'after unblock', 'after unmute']
  const got = await collectPushes(b, accepted.length, 10_000)
  t.same(got.map(p => p.content), accepted, 'bob was pushed exactly the accepted messages')
  t.notOk(b.frames.some(f => isPush(f) && f.content.startsWith('refused')), 'no refused message reached bob')
  b.send({ type: MessageType.BATCH_MESSAGE_ACK, content: got.map(p => p.uid).join(',') })

  // Banned: the ban revokes the token and kicks; the user can log in neither by HTTP nor by frame.
  admin = await api(server, 'POST', `/admin/users/${alice.userId}/status`, { status: 2 }, ADMIN_TOKEN)
  t.equal(admin.status, 200, 'admin bans alice')
  const kick = await a.next(f => f.type === MessageType.KICKOUT_NOTIFICATION)
  t.type(kick.content, 'string', `the banned sender is kicked with 1002 (${kick.content})`)
  await within(a.closed, 5000, 'banned connection closing')
  const httpLogin = await api(server, 'POST', '/users/login', { userId: alice.userId, password: 'correct-horse-battery' })
  t.equal(httpLogin.status, 403, 'a banned user cannot log in over HTTP (403)')
  const again = await ImConnection.open({ transport: 'tcp', host: '127.0.0.1', port: server.ports.tcp! })
  opened.add(again)
  t.equal((await again.login(alice.userId, alice.token)).errorCode, 401, 'nor connect with its old token (1001 401)')
  // Messages to a banned user are still accepted (only the sender side is checked), so no assertion there.
})

t.test('duplicate clientSeq: one message, the same receipt, no seq used up', async t => {
  const [alice, bob] = await friends()
  const a = await online(t, 'tcp', alice)
  const b = await online(t, 'udp', bob)
  const cs = newClientSeq()
  const frame = { type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'once only', clientSeq: cs }
  a.send(frame)
  a.send(frame)
  const first = await a.next(answers(cs))
  const second = await a.next(answers(cs))
  t.equal(first.type, MessageType.MESSAGE_SEND_RECEIPT, 'first copy: 2007')
  t.equal(second.type, MessageType.MESSAGE_SEND_RECEIPT, 'second copy: 2007 too')
  t.equal(second.uid, first.uid, 'the same uid')
  t.equal(second.userSeq, first.userSeq, 'the same userSeq')
  t.equal(second.conversationSeq, first.conversationSeq, 'the same conversationSeq')
  // A repeat after the first receipt has arrived.
  a.send(frame)
  const third = await a.next(answers(cs))
  t.equal(third.uid, first.uid, 'a later repeat gets the same uid')
  t.equal(third.userSeq, first.userSeq, 'a later repeat gets the same userSeq')

  const next = await send(a, bob.userId, 'the next one')
  t.equal(next.type, MessageType.MESSAGE_SEND_RECEIPT, 'the next message: 2007')
  t.equal(next.userSeq, first.userSeq + 1, "the next message's userSeq is +1: the repeats used none")
  t.equal(next.conversationSeq, first.conversationSeq + 1, "the next message's conversationSeq is +1")

  // Pushes of one conversation arrive in order: once 'the next one' is in, any duplicate would be too.
  const pushed = await collectPushes(b, 2, 10_000)
  t.same(pushed.map(p => p.content), ['once only', 'the next one'], 'bob got the message once, then the next one')
  t.equal(pushed[1]!.userSeq, pushed[0]!.userSeq + 1, "bob's userSeqs are contiguous")
  t.equal(b.frames.filter(f => isPush(f) && f.uid === first.uid).length, 1, 'exactly one push of the duplicated message')
  b.send({ type: MessageType.BATCH_MESSAGE_ACK, content: pushed.map(p => p.uid).join(',') })
})

t.test('an offline user catches up exactly by sync-check and pull-batch paging', async t => {
  const [alice, bob] = await friends()
  const a = await online(t, 'ws', alice)
  const N = 250
  const receipts: DecodedFrame[] = []
  const seqs = Array.from({ length: N }, () => newClientSeq())
  for (let i = 0; i < N; i++) a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: `offline ${i}`, clientSeq: seqs[i] })
  for (let i = 0; i < N; i++) receipts.push(await a.next(answers(seqs[i]!), 20_000))
  t.ok(receipts.every(r => r.type === MessageType.MESSAGE_SEND_RECEIPT), 'all 250 committed while bob was offline')

  // Bob comes online: the 1001 tells him his latest userSeq.
  const b = await online(t, 'tcp', bob)
  const loginFrame = b.frames.find(f => f.type === MessageType.LOGIN_RESPONSE)!
  t.equal(loginFrame.userSeq, N, "bob's 1001 carries his latest userSeq (250)")
  t.notOk(b.frames.some(isPush), 'nothing is pushed for messages sent while offline')

  const check = await pullRoute(t, '/api/messages/sync-check', { lastSyncSeq: 0 }, bob.token)
  t.same(check.body.data, { syncNeeded: true, targetSeq: N, currentSeq: 0 }, 'sync-check: {syncNeeded: true, targetSeq: 250, currentSeq: 0}')
  const pulled = await pullAll(t, bob, 1, 100)
  t.equal(pulled.pages.length, 3, 'three pages of 100, 100, 50')
  t.same(pulled.pages.map(p => p.messages.length), [100, 100, 50], 'page sizes')
  t.same(pulled.pages.map(p => p.hasMore), [true, true, false], 'hasMore is exact')
  t.same(pulled.pages.map(p => p.nextSeq), [101, 201, 251], 'nextSeq = last returned + 1')
  t.same(pulled.messages.map(m => m.seq), Array.from({ length: N }, (_, i) => i + 1), "seq is bob's userSeq, 1..250")
  t.same(pulled.messages.map(m => m.msgId), receipts.map(r => r.uid), 'exactly the sent messages, in order')
  t.same(pulled.messages.map(m => m.content), Array.from({ length: N }, (_, i) => `offline ${i}`), 'contents')
  const m0 = pulled.messages[0]
  t.equal(typeof m0.msgId, 'string', 'msgId is a string')
  t.equal(m0.fromUserId, alice.userId, 'fromUserId')
  t.equal(m0.toUserId, bob.userId, 'toUserId')
  t.equal(m0.conversationId, conversationOf(alice.userId, bob.userId), 'conversationId')
  t.equal(m0.conversationSeq, 1, 'conversationSeq')
  t.equal(m0.msgType, 1, 'msgType 1 (private)')
  // Past the end: nothing, nextSeq stays.
  const tail = await pullRoute(t, '/api/messages/pull-batch', { fromSeq: N + 1, limit: 100 }, bob.token)
  t.same({ n: tail.body.data.messages.length, hasMore: tail.body.data.hasMore, nextSeq: tail.body.data.nextSeq }, { n: 0, hasMore: false, nextSeq: N + 1 }, 'pulling past the end: empty, hasMore false, nextSeq = fromSeq')
  // A middle window exactly on a page boundary.
  const mid = await pullRoute(t, '/api/messages/pull-batch', { fromSeq: 150, limit: 101 }, bob.token)
  t.same(mid.body.data.messages.map((m: any) => m.seq), Array.from({ length: 101 }, (_, i) => 150 + i), 'fromSeq 150, limit 101: seqs 150..250')
  t.equal(mid.body.data.hasMore, false, 'hasMore false when the page ends exactly at the last message')
  t.equal(mid.body.data.nextSeq, 251, 'nextSeq 251')
  const after = await pullRoute(t, '/api/messages/sync-check', { lastSyncSeq: N }, bob.token)
  t.same(after.body.data, { syncNeeded: false, targetSeq: N, currentSeq: N }, 'after catching up: syncNeeded false')

  // Online again, the next message continues the stream.
  const r = await send(a, bob.userId, 'back online')
  const push = await b.next(isPush)
  t.equal(push.uid, r.uid, 'the next message is pushed')
  t.equal(push.userSeq, N + 1, "... with bob's userSeq 251")
  b.send({ type: MessageType.MESSAGE_ACK, uid: push.uid })
})

t.test('an un-ACKed push is resent with retry incremented; ACKed ones are not', async t => {
  const [alice, bob] = await friends()
  const a = await online(t, 'tcp', alice)
  const b = await online(t, 'ws', bob)
  const r1 = await send(a, bob.userId, 'acked by 2004')
  const r2 = await send(a, bob.userId, 'never acked at first')
  const r3 = await send(a, bob.userId, 'acked by 2005')
  const [p1, p2, p3] = await collectPushes(b, 3, 5000)
  const firstPushAt = Date.now()
  t.same([p1!.uid, p2!.uid, p3!.uid], [r1.uid, r2.uid, r3.uid], 'three pushes')
  b.send({ type: MessageType.MESSAGE_ACK, uid: p1!.uid })
  b.send({ type: MessageType.BATCH_MESSAGE_ACK, content: `${p3!.uid}` })

  const resend = await b.next(f => isPush(f) && f.uid === r2.uid, 9000)
  const after = Date.now() - firstPushAt
  t.equal(resend.retry, 1, 'the resend has retry 1')
  t.equal(resend.content, p2!.content, 'same content')
  t.equal(resend.userSeq, p2!.userSeq, 'same userSeq')
  t.equal(resend.conversationSeq, p2!.conversationSeq, 'same conversationSeq')
  t.ok(after >= 4000 && after <= 8000, `resent about 5 s after the first push (${after} ms)`)
  // The ACKed messages were pushed just before r2 on the same shard's wheel: their resends would be due
  // no later than r2's, so they would have arrived by now.
  t.equal(b.frames.filter(f => isPush(f) && f.uid === r1.uid).length, 1, 'the 2004-ACKed message was not resent')
  t.equal(b.frames.filter(f => isPush(f) && f.uid === r3.uid).length, 1, 'the 2005-ACKed message was not resent')

  // ACK the resend: the next resend would be due 15 s after the first push; nothing may come by 16.5 s.
  b.send({ type: MessageType.MESSAGE_ACK, uid: resend.uid })
  const late = await b.next(f => isPush(f) && f.uid === r2.uid, Math.max(0, 16_500 - (Date.now() - firstPushAt))).then(f => f, () => null)
  t.equal(late, null, `no resend after the ACK (${late === null ? 'none' : `retry ${late.retry}`})`)
})

t.test('read receipt and recall', async t => {
  const [alice, bob] = await friends()
  const conversationId = conversationOf(alice.userId, bob.userId)
  const a = await online(t, 'ws', alice)
  const b = await online(t, 'tcp', bob)
  const r1 = await send(a, bob.userId, 'read me')
  const r2 = await send(a, bob.userId, 'recall me')
  const r3 = await send(a, bob.userId, 'bob may not recall me')
  const pushed = await collectPushes(b, 3, 5000)
  b.send({ type: MessageType.BATCH_MESSAGE_ACK, content: pushed.map(p => p.uid).join(',') })

  b.send({ type: MessageType.MESSAGE_READ_RECEIPT, readReceipt: { conversationId, lastReadSeq: r1.conversationSeq } })
  const note = await a.next(f => f.type === MessageType.MESSAGE_READ_NOTIFICATION)
  t.equal(note.fromId, bob.userId, '1008 fromId is the reader')
  t.equal(note.readNotification?.conversationId, conversationId, '1008 readNotification.conversationId')
  t.equal(note.readNotification?.lastReadSeq, r1.conversationSeq, '1008 readNotification.lastReadSeq')

  a.send({ type: MessageType.MESSAGE_RECALL, uid: r2.uid })
  const [ra, rb] = await Promise.all([
    a.next(f => f.type === MessageType.RECALL_NOTIFICATION || f.type === MessageType.MESSAGE_DELIVERY_FAILED),
    b.next(f => f.type === MessageType.RECALL_NOTIFICATION)
  ])
  // Checked once a later frame (the 1010) reached the reader: a 1008 of its own would have come first.
  t.notOk(b.frames.some(f => f.type === MessageType.MESSAGE_READ_NOTIFICATION), 'the reader gets no 1008 of its own')
  for (const [who, n] of [['sender', ra], ['receiver', rb]] as const) {
    t.equal(n.type, MessageType.RECALL_NOTIFICATION, `${who}: 1010 (${n.content})`)
    t.equal(n.uid, r2.uid, `${who}: 1010 uid`)
    t.equal(n.conversationId, conversationId, `${who}: 1010 conversationId`)
    t.equal(n.fromId, alice.userId, `${who}: 1010 fromId is the original sender`)
  }

  b.send({ type: MessageType.MESSAGE_RECALL, uid: r3.uid })
  const refused = await b.next(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED || f.type === MessageType.RECALL_NOTIFICATION)
  t.equal(refused.type, MessageType.MESSAGE_DELIVERY_FAILED, 'a recall by the non-sender: 1006')
  t.equal(refused.errorCode, 403, '... 403')
  t.equal(refused.uid, r3.uid, '... naming the uid')
  t.notOk(a.frames.some(f => f.type === MessageType.RECALL_NOTIFICATION && f.uid === r3.uid), 'the sender got no 1010 for it')

  const pulled = await pullRoute(t, '/api/messages/pull', { conversationId, startSeq: 1, endSeq: 3 }, bob.token)
  const msgs = pulled.body.data.messages
  t.same(msgs.map((m: any) => m.msgId), [r1.uid, r2.uid, r3.uid], 'pull returns the three messages')
  t.equal(msgs[1].status, 3, 'the recalled message has status 3')
  t.equal(msgs[1].content, '', '... and empty content')
  t.equal(msgs[2].content, 'bob may not recall me', 'the message bob tried to recall is intact')
})

t.test('concurrent senders to one user keep its userSeq gap-free', async t => {
  const receiver = await registerAndLogin(server)
  const senders: User[] = []
  for (let i = 0; i < 10; i++) {
    const s = await registerAndLogin(server)
    await befriend(s, receiver)
    senders.push(s)
  }
  const kinds: Kind[] = ['ws', 'tcp']
  const r = await online(t, 'tcp', receiver)
  const conns = await Promise.all(senders.map((s, i) => online(t, kinds[i % 2]!, s)))
  const PER = 50
  const total = senders.length * PER
  const pushes = collectPushes(r, total, 30_000)
  const receipts = conns.map((c, i) => (async () => {
    const seqs = Array.from({ length: PER }, () => newClientSeq())
    for (let k = 0; k < PER; k++) c.send({ type: MessageType.PRIVATE_CHAT, toId: receiver.userId, content: `${i}:${k}`, clientSeq: seqs[k] })
    const out: DecodedFrame[] = []
    for (let k = 0; k < PER; k++) out.push(await c.next(answers(seqs[k]!), 30_000))
    return out
  })())
  const all = await Promise.all(receipts)
  const got = await pushes
  for (let i = 0; i < got.length; i += 100) r.send({ type: MessageType.BATCH_MESSAGE_ACK, content: got.slice(i, i + 100).map(p => p.uid).join(',') })

  t.ok(all.every(list => list.every(f => f.type === MessageType.MESSAGE_SEND_RECEIPT)), 'all 500 sends committed')
  const userSeqs = got.map(p => p.userSeq).sort((x, y) => x - y)
  t.same(userSeqs, Array.from({ length: total }, (_, i) => i + 1), "the receiver's pushed userSeqs are exactly 1..500")
  // Per sender (one conversation each): in send order, conversationSeq 1..50, receiver's userSeq increasing.
  for (let i = 0; i < senders.length; i++) {
    const mine = got.filter(p => p.fromId === senders[i]!.userId)
    const inOrder = mine.map(p => p.content).join() === Array.from({ length: PER }, (_, k) => `${i}:${k}`).join()
    const convSeqs = mine.map(p => p.conversationSeq).join() === Array.from({ length: PER }, (_, k) => k + 1).join()
    const increasing = mine.every((p, k) => k === 0 || p.userSeq > mine[k - 1]!.userSeq)
    if (!(inOrder && convSeqs && increasing)) t.fail(`sender ${i}: order ${inOrder}, conversationSeqs ${convSeqs}, increasing userSeq ${increasing}`)
    t.same(all[i]!.map(f => f.userSeq), Array.from({ length: PER }, (_, k) => k + 1), `sender ${i}: its own userSeqs are 1..50`)
  }
  t.pass('every conversation was delivered in order with contiguous conversationSeqs')
})

// Last: it kills and restarts the shared server.
t.test('kill -9 right after receipts: every acknowledged message survives, new seqs are higher', async t => {
  const [alice, bob] = await friends()
  const conversationId = conversationOf(alice.userId, bob.userId)
  const a = await online(t, 'tcp', alice)
  const b = await online(t, 'ws', bob)
  const N = 300
  const seqs = Array.from({ length: N }, () => newClientSeq())
  for (let i = 0; i < N; i++) a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: `durable ${i}`, clientSeq: seqs[i] })
  // Collect receipts as they come; kill the moment the last one is in.
  const receipts: DecodedFrame[] = []
  for (let i = 0; i < N; i++) receipts.push(await a.next(answers(seqs[i]!), 20_000))
  await server.kill9()
  t.ok(receipts.every(r => r.type === MessageType.MESSAGE_SEND_RECEIPT), `${N} receipts before the kill`)
  const maxUserSeqA = Math.max(...receipts.map(r => r.userSeq))
  const maxConvSeq = Math.max(...receipts.map(r => r.conversationSeq))
  const pushedToBob = b.frames.filter(isPush)
  const maxUserSeqB = Math.max(0, ...pushedToBob.map(p => p.userSeq))
  await Promise.all([a.closed, b.closed])

  server = await server.restart()
  t.pass('restarted on the same data folder after kill -9')

  // Every acknowledged message is there: in the sender's stream, the receiver's stream and the conversation.
  const acked = receipts.map(r => r.uid)
  const pa = await pullAll(t, alice, 1, 500)
  const aliceIds = new Set(pa.messages.map(m => m.msgId))
  t.ok(acked.every(id => aliceIds.has(id)), `alice's pull-batch has all ${N} acknowledged messages (missing ${acked.filter(id => !aliceIds.has(id)).length})`)
  t.same(pa.messages.map(m => m.seq), receipts.map(r => r.userSeq), "alice's userSeqs in pull-batch match the receipts")
  const pb = await pullAll(t, bob, 1, 500)
  const bobIds = new Set(pb.messages.map(m => m.msgId))
  t.ok(acked.every(id => bobIds.has(id)), `bob's pull-batch has all ${N} acknowledged messages`)
  t.same(pb.messages.map(m => m.content), Array.from({ length: N }, (_, i) => `durable ${i}`), "bob's messages in order")
  const conv = await pullRoute(t, '/api/messages/pull', { conversationId, startSeq: 1, endSeq: N, limit: N }, alice.token)
  t.same(conv.body.data.messages.map((m: any) => m.msgId), acked, 'pull by conversationSeq has every acknowledged message in order')

  // A resend of an acknowledged message after the crash (the client never saw its receipt, say)
  // gets the original receipt back and stores nothing new.
  const a2 = await online(t, 'udp', alice)
  const b2 = await online(t, 'tcp', bob)
  const repeat = await send(a2, bob.userId, 'durable 7 again', {}, seqs[7]!)
  t.equal(repeat.type, MessageType.MESSAGE_SEND_RECEIPT, 'a repeat after the restart is answered with a receipt')
  t.equal(repeat.uid, receipts[7]!.uid, 'the repeat gets the original msgId')
  t.equal(repeat.userSeq, receipts[7]!.userSeq, 'and the original userSeq')

  // New messages get seqs above anything seen before the crash.
  const bobLogin = b2.frames.find(f => f.type === MessageType.LOGIN_RESPONSE)!
  t.ok(bobLogin.userSeq >= N, `bob's 1001 userSeq after the restart (${bobLogin.userSeq}) covers the ${N} messages`)
  const fresh = await send(a2, bob.userId, 'after the crash')
  const pbAfter = await pullAll(t, bob, 1, 500)
  t.same(pbAfter.messages.filter(m => m.content === 'durable 7' || m.content === 'durable 7 again').map(m => m.content), ['durable 7'], 'the repeat stored no second copy')
  t.equal(fresh.type, MessageType.MESSAGE_SEND_RECEIPT, `a new message is accepted (${fresh.content})`)
  t.ok(fresh.userSeq > maxUserSeqA, `alice's new userSeq ${fresh.userSeq} > ${maxUserSeqA}`)
  t.ok(fresh.conversationSeq > maxConvSeq, `the new conversationSeq ${fresh.conversationSeq} > ${maxConvSeq}`)
  const push = await b2.next(isPush)
  t.equal(push.uid, fresh.uid, 'bob gets the new message')
  t.ok(push.userSeq > Math.max(maxUserSeqB, N), `bob's new userSeq ${push.userSeq} > every earlier one`)
  b2.send({ type: MessageType.MESSAGE_ACK, uid: push.uid })
  const back = await send(b2, alice.userId, 'reply after the crash')
  t.ok(back.userSeq > push.userSeq, "bob's userSeq keeps increasing")
  t.ok(back.conversationSeq > fresh.conversationSeq, 'the conversationSeq keeps increasing')
  const pushA = await a2.next(isPush)
  t.ok(pushA.userSeq > fresh.userSeq, "alice's userSeq keeps increasing")
})
