// The message read side of the HTTP API (docs/protocol.md "HTTP API"): sync-check, pull-batch, pull,
// conversations/sync, recall and read-count, against one real server with real socket clients.

import { randomUUID } from 'node:crypto'
import t from 'tap'
import { api, registerAndLogin, startServer, type TestServer } from './helpers/server.js'
import { expectOk, expectRefused } from './helpers/envelope.js'
import { loggedIn } from './helpers/clients.js'
import { ImConnection, MessageType, type DecodedFrame } from '@implus/client'

interface User { userId: string, token: string }

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const MESSAGE_INFO_KEYS = ['content', 'contentType', 'conversationId', 'conversationSeq', 'createTime', 'fromUserId', 'groupId',
  'msgId', 'msgType', 'seq', 'status', 'toUserId'].sort()

let server: TestServer
const open: ImConnection[] = []

t.before(async () => {
  server = await startServer()
})
t.teardown(async () => {
  for (const c of open) c.close()
  await server?.stop()
})

const connect = (user: User): Promise<ImConnection> => loggedIn(server, user, open)

async function befriend (a: User, b: User): Promise<void> {
  const res = await api(server, 'POST', '/users/friends', { friendId: b.userId }, a.token)
  if (res.status !== 200) throw new Error(`befriend: ${JSON.stringify(res.body)}`)
}

/** Sends a private message and waits for its 2007 receipt. */
async function sendPrivate (c: ImConnection, toId: string, content: string): Promise<DecodedFrame> {
  const clientSeq = randomUUID()
  c.send({ type: MessageType.PRIVATE_CHAT, toId, content, clientSeq })
  const receipt = await c.next(f => (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED) && f.clientSeq === clientSeq)
  if (receipt.type !== MessageType.MESSAGE_SEND_RECEIPT) throw new Error(`send refused: ${receipt.errorCode} ${receipt.content}`)
  return receipt
}

function privateId (a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? `private_${a}_${b}` : `private_${b}_${a}`
}

t.test('an offline user catches up exactly with sync-check and pull-batch paging', async t => {
  const alice = await registerAndLogin(server)
  const bob = await registerAndLogin(server)
  await befriend(alice, bob)
  const a = await connect(alice)
  const receipts: DecodedFrame[] = []
  for (let i = 0; i < 5; i++) receipts.push(await sendPrivate(a, bob.userId, `hello ${i} 你好`))
  const conversationId = privateId(alice.userId, bob.userId)

  const check = expectOk(t, await api(server, 'POST', '/api/messages/sync-check', { lastSyncSeq: 0 }, bob.token), 'sync-check from 0')
  t.equal(check.syncNeeded, true, 'bob needs a sync')
  t.equal(check.currentSeq, 0, 'currentSeq echoes lastSyncSeq')
  t.type(check.targetSeq, 'number', 'targetSeq is a number')

  // Pages of 2: 2, 2, 1; hasMore exact, nextSeq = last returned + 1.
  const seen: any[] = []
  let fromSeq = 0
  const pages: { count: number, hasMore: boolean }[] = []
  for (let page = 0; page < 4; page++) {
    const data = expectOk(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq, limit: 2 }, bob.token), `page ${page}`)
    pages.push({ count: data.messages.length, hasMore: data.hasMore })
    if (data.messages.length > 0) t.equal(data.nextSeq, data.messages[data.messages.length - 1].seq + 1, `page ${page}: nextSeq = last + 1`)
    else t.equal(data.nextSeq, fromSeq, `page ${page}: nextSeq = fromSeq when empty`)
    seen.push(...data.messages)
    fromSeq = data.nextSeq
    if (!data.hasMore) break
  }
  t.same(pages, [{ count: 2, hasMore: true }, { count: 2, hasMore: true }, { count: 1, hasMore: false }], 'pages of 2, 2, 1 and hasMore exact')
  t.same(seen.map(m => m.content), [0, 1, 2, 3, 4].map(i => `hello ${i} 你好`), 'every message once, in send order')
  t.same(seen.map(m => m.msgId), receipts.map(r => r.uid), 'msgIds are the receipts\' uids')
  for (let i = 1; i < seen.length; i++) t.ok(seen[i].seq > seen[i - 1].seq, 'userSeqs strictly increase')
  t.equal(seen[seen.length - 1].seq, check.targetSeq, 'the last userSeq is the sync-check target')
  const m = seen[0]
  t.same(Object.keys(m).sort(), MESSAGE_INFO_KEYS, 'MessageInfo has exactly the protocol\'s fields')
  t.match(m, { conversationId, fromUserId: alice.userId, toUserId: bob.userId, groupId: null, msgType: 1, contentType: 1, status: 0 }, 'MessageInfo fields')
  t.equal(m.conversationSeq, receipts[0]!.conversationSeq, 'conversationSeq as in the receipt')
  t.type(m.msgId, 'string', 'msgId is a string')
  t.match(m.createTime, ISO_8601, 'createTime is ISO 8601')

  // Exactly the remaining count: no more.
  const all = expectOk(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 0, limit: 5 }, bob.token), 'limit = count')
  t.equal(all.messages.length, 5)
  t.equal(all.hasMore, false, 'limit equal to what is left: hasMore false')
  const four = expectOk(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 0, limit: 4 }, bob.token), 'limit = count - 1')
  t.equal(four.hasMore, true, 'one left over: hasMore true')
  const deflt = expectOk(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 0 }, bob.token), 'default limit')
  t.equal(deflt.messages.length, 5, 'default limit returns all five')

  const after = expectOk(t, await api(server, 'POST', '/api/messages/sync-check', { lastSyncSeq: check.targetSeq }, bob.token), 'sync-check at target')
  t.same(after, { syncNeeded: false, targetSeq: check.targetSeq, currentSeq: check.targetSeq }, 'no sync needed at the target')
  const empty = expectOk(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq }, bob.token), 'pull past the end')
  t.same(empty, { messages: [], hasMore: false, nextSeq: fromSeq }, 'nothing past the end, nextSeq = fromSeq')

  // The sender's own stream has them too, with its own userSeqs.
  const mine = expectOk(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 0, userId: alice.userId }, alice.token), 'sender pulls')
  t.same(mine.messages.map((x: any) => x.seq), receipts.map(r => r.userSeq), 'sender\'s seqs are its receipts\' userSeqs')

  expectRefused(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 0, userId: alice.userId }, bob.token), 403, 'another userId in the body')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: -1 }, bob.token), 400, 'negative fromSeq')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: '1' }, bob.token), 400, 'fromSeq as text')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 0, limit: 501 }, bob.token), 400, 'limit over 500')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 0, limit: 0 }, bob.token), 400, 'limit 0')
  expectRefused(t, await api(server, 'POST', '/api/messages/sync-check', { lastSyncSeq: 'x' }, bob.token), 400, 'bad lastSyncSeq')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 0 }), 401, 'no token')
})

t.test('pull by conversation: ranges, hasMore, members only', async t => {
  const alice = await registerAndLogin(server)
  const bob = await registerAndLogin(server)
  const carol = await registerAndLogin(server)
  await befriend(alice, bob)
  const a = await connect(alice)
  const receipts: DecodedFrame[] = []
  for (let i = 0; i < 5; i++) receipts.push(await sendPrivate(a, bob.userId, `m${i}`))
  const conversationId = privateId(alice.userId, bob.userId)
  const seqs = receipts.map(r => r.conversationSeq)
  for (let i = 1; i < seqs.length; i++) t.ok(seqs[i]! > seqs[i - 1]!, 'conversationSeqs increase')

  const range = expectOk(t, await api(server, 'POST', '/api/messages/pull', { conversationId, startSeq: seqs[1], endSeq: seqs[3] }, bob.token), 'range')
  t.equal(range.conversationId, conversationId)
  t.same(range.messages.map((m: any) => m.content), ['m1', 'm2', 'm3'], 'start to end inclusive')
  t.same(range.messages.map((m: any) => m.seq), seqs.slice(1, 4), 'seq is the conversationSeq here')
  t.equal(range.hasMore, false, 'nothing more within the range')
  const limited = expectOk(t, await api(server, 'POST', '/api/messages/pull', { conversationId, startSeq: seqs[0], limit: 2 }, alice.token), 'limited')
  t.same(limited.messages.map((m: any) => m.content), ['m0', 'm1'])
  t.equal(limited.hasMore, true, 'more after the limit')
  const tail = expectOk(t, await api(server, 'POST', '/api/messages/pull', { conversationId, startSeq: seqs[3], limit: 2 }, alice.token), 'tail')
  t.same(tail.messages.map((m: any) => m.content), ['m3', 'm4'])
  t.equal(tail.hasMore, false, 'exactly the rest: no more')

  expectRefused(t, await api(server, 'POST', '/api/messages/pull', { conversationId, startSeq: 0 }, carol.token), 403, 'a third user')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull', { conversationId: `private_${alice.userId}`, startSeq: 0 }, bob.token), 400, 'malformed id')
  const [lo, hi] = BigInt(alice.userId) < BigInt(bob.userId) ? [alice.userId, bob.userId] : [bob.userId, alice.userId]
  expectRefused(t, await api(server, 'POST', '/api/messages/pull', { conversationId: `private_${hi}_${lo}`, startSeq: 0 }, bob.token), 400, 'ids in the wrong order')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull', { conversationId: 'chat_1', startSeq: 0 }, bob.token), 400, 'unknown id form')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull', { conversationId: 'group_987654321987', startSeq: 0 }, bob.token), 404, 'no such group')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull', { conversationId, startSeq: 3, endSeq: 1 }, bob.token), 400, 'endSeq below startSeq')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull', { conversationId }, bob.token), 400, 'missing startSeq')
})

t.test('conversations/sync: newest first, unread counts move with a read receipt', async t => {
  const alice = await registerAndLogin(server)
  const bob = await registerAndLogin(server)
  const carol = await registerAndLogin(server)
  await befriend(alice, bob)
  await befriend(carol, bob)
  const a = await connect(alice)
  const c = await connect(carol)
  const fromAlice: DecodedFrame[] = []
  for (let i = 0; i < 3; i++) fromAlice.push(await sendPrivate(a, bob.userId, `from alice ${i}`))
  const fromCarol = await sendPrivate(c, bob.userId, 'from carol')
  const withAlice = privateId(alice.userId, bob.userId)
  const withCarol = privateId(carol.userId, bob.userId)

  const before = expectOk(t, await api(server, 'POST', '/api/conversations/sync', {}, bob.token), 'sync')
  t.same(before.conversations.map((x: any) => x.conversationId), [withCarol, withAlice], 'newest first')
  t.equal(before.totalUnreadCount, 4, 'total unread 3 + 1')
  t.same(before.conversations[0], {
    conversationId: withCarol,
    conversationType: 0,
    conversationName: `user-${carol.userId}`,
    unreadCount: 1,
    lastMsgId: fromCarol.uid,
    lastMsgContent: 'from carol',
    lastMsgContentType: 1,
    lastMsgSender: carol.userId,
    lastMsgTime: before.conversations[0].lastMsgTime,
    lastSeq: fromCarol.conversationSeq,
    lastReadSeq: 0
  }, 'the private conversation summary')
  t.match(before.conversations[0].lastMsgTime, ISO_8601, 'lastMsgTime is ISO 8601')
  t.match(before.conversations[1], { unreadCount: 3, lastMsgId: fromAlice[2]!.uid, lastMsgContent: 'from alice 2', conversationName: `user-${alice.userId}` })

  const one = expectOk(t, await api(server, 'POST', '/api/conversations/sync', { limit: 1 }, bob.token), 'sync limit 1')
  t.same(one.conversations.map((x: any) => x.conversationId), [withCarol], 'limit 1: the newest only')
  t.equal(one.totalUnreadCount, 4, 'the total counts every conversation')

  // Bob reads alice's first two messages: alice is told (1008), then the unread count is 1.
  const b = await connect(bob)
  b.send({ type: MessageType.MESSAGE_READ_RECEIPT, readReceipt: { conversationId: withAlice, lastReadSeq: fromAlice[1]!.conversationSeq } })
  const note = await a.next(f => f.type === MessageType.MESSAGE_READ_NOTIFICATION)
  t.equal(note.readNotification?.lastReadSeq, fromAlice[1]!.conversationSeq, 'alice hears of the read')
  const afterRead = expectOk(t, await api(server, 'POST', '/api/conversations/sync', {}, bob.token), 'sync after read')
  const entry = afterRead.conversations.find((x: any) => x.conversationId === withAlice)
  t.equal(entry.unreadCount, 1, 'one of alice\'s messages left unread')
  t.equal(entry.lastReadSeq, fromAlice[1]!.conversationSeq, 'lastReadSeq moved')
  t.equal(afterRead.totalUnreadCount, 2, 'total 1 + 1')

  // Alice sends again: her conversation is the newest for bob.
  await sendPrivate(a, bob.userId, 'again')
  const reordered = expectOk(t, await api(server, 'POST', '/api/conversations/sync', {}, bob.token), 'sync after a new message')
  t.same(reordered.conversations.map((x: any) => x.conversationId), [withAlice, withCarol], 'the conversation with news moves to the top')
  t.equal(reordered.totalUnreadCount, 3)
  const alicesView = expectOk(t, await api(server, 'POST', '/api/conversations/sync', {}, alice.token), 'alice syncs')
  t.match(alicesView.conversations[0], { conversationId: withAlice, unreadCount: 0, conversationName: `user-${bob.userId}` }, 'the sender has nothing unread')

  expectRefused(t, await api(server, 'POST', '/api/conversations/sync', { limit: 0 }, bob.token), 400, 'limit 0')
  expectRefused(t, await api(server, 'POST', '/api/conversations/sync', { userId: alice.userId }, bob.token), 403, 'another userId')
})

t.test('recall over HTTP, and read-count', async t => {
  const alice = await registerAndLogin(server)
  const bob = await registerAndLogin(server)
  const carol = await registerAndLogin(server)
  await befriend(alice, bob)
  const a = await connect(alice)
  const b = await connect(bob)
  const kept = await sendPrivate(a, bob.userId, 'kept')
  const gone = await sendPrivate(a, bob.userId, 'regrettable')
  const conversationId = privateId(alice.userId, bob.userId)

  t.same(expectOk(t, await api(server, 'GET', `/api/messages/${kept.uid}/read-count`, undefined, alice.token), 'read-count'), { msgId: kept.uid, readCount: 0 }, 'unread: 0')
  expectRefused(t, await api(server, 'GET', `/api/messages/${kept.uid}/read-count`, undefined, carol.token), 403, 'read-count by an outsider')
  expectRefused(t, await api(server, 'GET', '/api/messages/123456789/read-count', undefined, alice.token), 404, 'read-count of an unknown message')
  expectRefused(t, await api(server, 'GET', '/api/messages/abc/read-count', undefined, alice.token), 400, 'read-count of a malformed id')

  expectRefused(t, await api(server, 'POST', `/api/messages/${gone.uid}/recall`, {}, bob.token), 403, 'the receiver may not recall')
  expectRefused(t, await api(server, 'POST', `/api/messages/${gone.uid}/recall`, {}, carol.token), 403, 'an outsider may not recall')
  expectRefused(t, await api(server, 'POST', '/api/messages/0x12/recall', {}, alice.token), 400, 'malformed msgId')
  expectRefused(t, await api(server, 'POST', `/api/messages/${gone.uid}/recall`, { userId: bob.userId }, alice.token), 403, 'another userId')
  const recalled = expectOk(t, await api(server, 'POST', `/api/messages/${gone.uid}/recall`, {}, alice.token), 'the sender recalls')
  t.same(recalled, { msgId: gone.uid, conversationId }, 'recall answers the msgId and conversation')
  const notice = await b.next(f => f.type === MessageType.RECALL_NOTIFICATION)
  t.match(notice, { uid: gone.uid, conversationId, fromId: alice.userId }, 'the receiver gets 1010')

  const batch = expectOk(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 0 }, bob.token), 'bob pulls')
  const pulled = batch.messages.find((m: any) => m.msgId === gone.uid)
  t.match(pulled, { status: 3, content: '' }, 'pull-batch: recalled, content empty')
  t.match(batch.messages.find((m: any) => m.msgId === kept.uid), { content: 'kept' }, 'the other message is intact')
  const conv = expectOk(t, await api(server, 'POST', '/api/messages/pull', { conversationId, startSeq: 0 }, alice.token), 'alice pulls the conversation')
  t.match(conv.messages.find((m: any) => m.msgId === gone.uid), { status: 3, content: '' }, 'pull: recalled, content empty')
  const sync = expectOk(t, await api(server, 'POST', '/api/conversations/sync', {}, bob.token), 'bob syncs')
  t.match(sync.conversations[0], { conversationId, lastMsgId: gone.uid, lastMsgContent: '' }, 'the preview of a recalled last message is empty')

  // Bob reads up to the kept message: its read count becomes 1.
  b.send({ type: MessageType.MESSAGE_READ_RECEIPT, readReceipt: { conversationId, lastReadSeq: kept.conversationSeq } })
  await a.next(f => f.type === MessageType.MESSAGE_READ_NOTIFICATION)
  t.same(expectOk(t, await api(server, 'GET', `/api/messages/${kept.uid}/read-count`, undefined, bob.token), 'read-count after reading'), { msgId: kept.uid, readCount: 1 }, 'read: 1')
  const later = await sendPrivate(a, bob.userId, 'not yet read')
  t.same(expectOk(t, await api(server, 'GET', `/api/messages/${later.uid}/read-count`, undefined, alice.token), 'read-count of a later one'), { msgId: later.uid, readCount: 0 }, 'a later message: 0')
})
