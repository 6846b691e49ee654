// Groups over the HTTP API (docs/protocol.md "HTTP API" and the 1007/2006 frames): create, membership,
// members-only reads, group pulls, unread counts against the ACK point, and who gets notified.
// One shard (IMPLUS_SHARDS=1): a shard handles its frames in order and answers after each commit, so a
// receipt for a later frame from the same connection proves an earlier frame was applied — events, not sleeps.

import { randomUUID } from 'node:crypto'
import t from 'tap'
import { api, registerAndLogin, startServer, uniqueUserId, type ApiResponse, type TestServer } from './helpers/server.js'
import { expectOk, expectRefused } from './helpers/envelope.js'
import { loggedIn } from './helpers/clients.js'
import { ImConnection, MessageType, type DecodedFrame } from '@implus/client'

interface User { userId: string, token: string }

let server: TestServer
const open: ImConnection[] = []

t.before(async () => {
  server = await startServer({ env: { IMPLUS_SHARDS: '1' } })
})
t.teardown(async () => {
  for (const c of open) c.close()
  await server?.stop()
})

const connect = (user: User): Promise<ImConnection> => loggedIn(server, user, open)

async function createGroup (owner: User, members: User[], name = 'team'): Promise<string> {
  const res = await api(server, 'POST', '/api/conversations/create', { conversationName: name, conversationType: 'GROUP', members: members.map(m => m.userId) }, owner.token)
  if (res.status !== 200) throw new Error(`create: ${JSON.stringify(res.body)}`)
  return res.body.data as string
}

/** Sends a group message; resolves with the 2007 receipt. */
async function sendGroup (c: ImConnection, conversationId: string, content: string): Promise<DecodedFrame> {
  const clientSeq = randomUUID()
  c.send({ type: MessageType.GROUP_CHAT, conversationId, content, clientSeq })
  const receipt = await c.next(f => (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED) && f.clientSeq === clientSeq)
  if (receipt.type !== MessageType.MESSAGE_SEND_RECEIPT) throw new Error(`group send refused: ${receipt.errorCode} ${receipt.content}`)
  return receipt
}

const noteFor = (conversationId: string, seq: number) => (f: DecodedFrame): boolean =>
  f.type === MessageType.GROUP_MESSAGE_NOTIFICATION && f.conversationId === conversationId && f.conversationSeq === seq

async function members (user: User, conversationId: string): Promise<ApiResponse> {
  return await api(server, 'GET', `/api/groups/${conversationId}/members`, undefined, user.token)
}

async function groupUnread (user: User, conversationId: string): Promise<number> {
  const res = await api(server, 'POST', '/api/conversations/sync', {}, user.token)
  const entry = res.body.data.conversations.find((c: any) => c.conversationId === conversationId)
  if (entry === undefined) throw new Error(`${conversationId} is not in the conversation list`)
  return entry.unreadCount
}

t.test('create, add, remove, leave, list members', async t => {
  const owner = await registerAndLogin(server)
  const m1 = await registerAndLogin(server)
  const m2 = await registerAndLogin(server)
  const outsider = await registerAndLogin(server)

  const created = expectOk(t, await api(server, 'POST', '/api/conversations/create',
    { conversationName: '研发 team', conversationDesc: 'the team', conversationType: 'GROUP', members: [m1.userId, owner.userId] }, owner.token), 'create')
  t.match(created, /^group_[1-9]\d*$/, 'data is "group_{id}"')
  const group = created as string
  t.same(expectOk(t, await members(owner, group), 'owner lists'), [owner.userId, m1.userId], 'the creator (once) and the listed member, owner first')
  t.same(expectOk(t, await members(m1, group), 'member lists'), [owner.userId, m1.userId], 'a member may list')
  expectRefused(t, await members(outsider, group), 403, 'an outsider lists')
  expectRefused(t, await api(server, 'GET', '/api/groups/group_987654321987/members', undefined, owner.token), 404, 'list an unknown group')
  expectRefused(t, await api(server, 'GET', '/api/groups/private_1_2/members', undefined, owner.token), 400, 'list a private conversation')
  const second = await createGroup(owner, [])
  t.not(second, group, 'each group gets its own id')
  t.same(expectOk(t, await members(owner, second), 'a group of one'), [owner.userId], 'a group may start with its owner alone')

  expectRefused(t, await api(server, 'POST', '/api/conversations/create', { conversationName: 'x', conversationType: 'GROUP', members: [uniqueUserId()] }, owner.token), 404, 'create with an unknown member')
  expectRefused(t, await api(server, 'POST', '/api/conversations/create', { conversationType: 'GROUP', members: [] }, owner.token), 400, 'create without a name')
  expectRefused(t, await api(server, 'POST', '/api/conversations/create', { conversationName: 'x', conversationType: 'PRIVATE', members: [] }, owner.token), 400, 'create a non-group')
  expectRefused(t, await api(server, 'POST', '/api/conversations/create', { conversationName: 'x', conversationType: 'GROUP', members: 'all' }, owner.token), 400, 'members not a list')
  expectRefused(t, await api(server, 'POST', '/api/conversations/create', { conversationName: 'x', conversationType: 'GROUP', members: ['01'] }, owner.token), 400, 'a malformed member id')
  expectRefused(t, await api(server, 'POST', '/api/conversations/create', { conversationName: 'x', conversationType: 'GROUP', members: [], userId: m1.userId }, owner.token), 403, 'another userId in the body')
  expectRefused(t, await api(server, 'POST', '/api/conversations/create', { conversationName: 'x', conversationType: 'GROUP', members: [] }), 401, 'no token')

  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: [m2.userId] }, m1.token), 403, 'a member adds')
  expectOk(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: [m2.userId] }, owner.token), 'the owner adds')
  t.same(expectOk(t, await members(m2, group), 'the new member lists'), [owner.userId, m1.userId, m2.userId], 'added')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: [uniqueUserId()] }, owner.token), 404, 'add an unknown user')
  expectRefused(t, await api(server, 'POST', '/api/groups/group_987654321987/members', { userIds: [m2.userId] }, owner.token), 404, 'add to an unknown group')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: 'x' }, owner.token), 400, 'userIds not a list')
  expectRefused(t, await api(server, 'POST', '/api/groups/group_x/members', { userIds: [m2.userId] }, owner.token), 400, 'a malformed group id')

  expectRefused(t, await api(server, 'DELETE', `/api/groups/${group}/members/${m2.userId}`, undefined, m1.token), 403, 'a member removes another')
  expectOk(t, await api(server, 'DELETE', `/api/groups/${group}/members/${m1.userId}`, undefined, m1.token), 'a member leaves')
  t.same(expectOk(t, await members(owner, group), 'after leaving'), [owner.userId, m2.userId], 'the leaver is gone')
  expectRefused(t, await members(m1, group), 403, 'who left may not list')
  expectOk(t, await api(server, 'DELETE', `/api/groups/${group}/members/${m2.userId}`, undefined, owner.token), 'the owner removes')
  t.same(expectOk(t, await members(owner, group), 'after removal'), [owner.userId], 'the removed member is gone')
  expectRefused(t, await api(server, 'DELETE', `/api/groups/${group}/members/${m2.userId}`, undefined, owner.token), 404, 'remove a non-member')
  expectRefused(t, await api(server, 'DELETE', `/api/groups/${group}/members/abc`, undefined, owner.token), 400, 'remove a malformed user id')
})

t.test('members only: pull, group pull and latest-seq', async t => {
  const owner = await registerAndLogin(server)
  const outsider = await registerAndLogin(server)
  const group = await createGroup(owner, [])
  const other = await createGroup(outsider, [])
  const o = await connect(owner)
  const r = await sendGroup(o, group, 'secret')

  t.same(expectOk(t, await api(server, 'GET', `/api/group-messages/latest-seq/${group}`, undefined, owner.token), 'latest-seq'), { conversationId: group, latestSeq: r.conversationSeq }, 'a member sees the latest seq')
  t.same(expectOk(t, await api(server, 'GET', `/api/group-messages/latest-seq/${other}`, undefined, outsider.token), 'latest-seq, no messages'), { conversationId: other, latestSeq: 0 }, 'no message yet: 0')
  expectRefused(t, await api(server, 'GET', `/api/group-messages/latest-seq/${group}`, undefined, outsider.token), 403, 'latest-seq by an outsider')
  expectRefused(t, await api(server, 'GET', '/api/group-messages/latest-seq/group_987654321987', undefined, owner.token), 404, 'latest-seq of an unknown group')
  expectRefused(t, await api(server, 'GET', '/api/group-messages/latest-seq/private_1_2', undefined, owner.token), 400, 'latest-seq of a private conversation')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull', { conversationId: group, startSeq: 0 }, outsider.token), 403, 'pull by an outsider')
  expectRefused(t, await api(server, 'POST', '/api/group-messages/pull', { conversations: { [group]: 0 } }, outsider.token), 403, 'group pull by an outsider')
  expectRefused(t, await api(server, 'POST', '/api/group-messages/pull', { conversations: { [other]: 0, [group]: 0 } }, outsider.token), 403, 'one foreign group spoils the request')
  expectRefused(t, await api(server, 'POST', '/api/group-messages/pull', { conversations: { private_1_2: 0 } }, owner.token), 400, 'group pull of a private conversation')
  expectRefused(t, await api(server, 'POST', '/api/group-messages/pull', { conversations: { [group]: -1 } }, owner.token), 400, 'negative lastSeq')
  expectRefused(t, await api(server, 'POST', '/api/group-messages/pull', { conversations: [group] }, owner.token), 400, 'conversations not an object')
  expectRefused(t, await api(server, 'POST', '/api/group-messages/pull', { conversations: { [group]: 0 }, limit: 501 }, owner.token), 400, 'limit over 500')
  const pulled = expectOk(t, await api(server, 'POST', '/api/messages/pull', { conversationId: group, startSeq: 0 }, owner.token), 'a member pulls')
  t.same(pulled.messages.map((m: any) => m.content), ['secret'])
  const msg = pulled.messages[0]
  t.same(msg, {
    msgId: r.uid,
    seq: r.conversationSeq,
    conversationSeq: r.conversationSeq,
    conversationId: group,
    fromUserId: owner.userId,
    toUserId: null,
    groupId: group.slice(6),
    msgType: 2,
    contentType: 1,
    content: 'secret',
    status: 0,
    createTime: msg.createTime
  }, 'a group MessageInfo')
  expectRefused(t, await api(server, 'GET', `/api/messages/${r.uid}/read-count`, undefined, outsider.token), 403, 'read-count by an outsider')
})

t.test('group pull of several conversations, unread against the ACK point, offline catch-up', async t => {
  const owner = await registerAndLogin(server)
  const member = await registerAndLogin(server)
  const g1 = await createGroup(owner, [member], 'one')
  const g2 = await createGroup(owner, [member], 'two')
  const o = await connect(owner)
  // The member is offline: it catches up by pulling.
  const r1: DecodedFrame[] = []
  for (let i = 0; i < 3; i++) r1.push(await sendGroup(o, g1, `g1-${i}`))
  const r2: DecodedFrame[] = []
  for (let i = 0; i < 2; i++) r2.push(await sendGroup(o, g2, `g2-${i}`))

  t.equal(await groupUnread(member, g1), 3, 'g1: 3 unread (latest − sync point 0)')
  t.equal(await groupUnread(member, g2), 2, 'g2: 2 unread')
  t.equal(await groupUnread(owner, g1), 0, 'the sender has nothing unread')
  const sync = expectOk(t, await api(server, 'POST', '/api/conversations/sync', {}, member.token), 'member syncs')
  t.same(sync.conversations.map((c: any) => c.conversationId), [g2, g1], 'newest group first')
  t.match(sync.conversations[0], { conversationType: 1, conversationName: 'two', lastMsgId: r2[1]!.uid, lastMsgContent: 'g2-1', lastMsgSender: owner.userId, lastSeq: r2[1]!.conversationSeq })
  t.equal(sync.totalUnreadCount, 5, 'total 3 + 2')

  const latest = expectOk(t, await api(server, 'GET', `/api/group-messages/latest-seq/${g1}`, undefined, member.token), 'latest-seq')
  t.equal(latest.latestSeq, r1[2]!.conversationSeq, 'latest seq of g1')

  const first = expectOk(t, await api(server, 'POST', '/api/group-messages/pull', { conversations: { [g1]: 0, [g2]: 0 }, limit: 2 }, member.token), 'group pull, limit 2')
  t.same(first.conversations[g1].map((m: any) => m.content), ['g1-0', 'g1-1'], 'g1: the first two')
  t.same(first.conversations[g2].map((m: any) => m.content), ['g2-0', 'g2-1'], 'g2: both')
  t.same(first.latestSeqs, { [g1]: r1[2]!.conversationSeq, [g2]: r2[1]!.conversationSeq }, 'latest seqs of both')
  t.equal(first.hasMore, true, 'g1 has more')
  t.same(first.conversations[g1].map((m: any) => m.seq), [r1[0]!.conversationSeq, r1[1]!.conversationSeq], 'seq is the conversationSeq')
  const rest = expectOk(t, await api(server, 'POST', '/api/group-messages/pull', {
    conversations: { [g1]: first.conversations[g1][1].seq, [g2]: first.conversations[g2][1].seq }, limit: 2
  }, member.token), 'group pull, the rest')
  t.same(rest.conversations[g1].map((m: any) => m.content), ['g1-2'], 'g1: the last one (seq > lastSeq)')
  t.same(rest.conversations[g2], [], 'g2: nothing new')
  t.equal(rest.hasMore, false, 'nothing more anywhere')
  const whole = expectOk(t, await api(server, 'POST', '/api/group-messages/pull', { conversations: { [g1]: 0 }, limit: 3 }, member.token), 'limit = count')
  t.equal(whole.hasMore, false, 'limit equal to what is left: no more')

  // 2006 moves the sync point; a receipt for a later send on the same shard proves it was applied.
  const m = await connect(member)
  m.send({ type: MessageType.GROUP_CONVERSATION_ACK, content: `${g1}:${r1[0]!.conversationSeq}` })
  const barrier = await sendGroup(m, g2, 'barrier')
  t.equal(await groupUnread(member, g1), 2, 'after ACK of the first: latest − ACK point = 2')
  m.send({ type: MessageType.GROUP_CONVERSATION_ACK, content: `${g1}:${r1[2]!.conversationSeq}, ${g2}:${barrier.conversationSeq}` })
  await sendGroup(m, g2, 'barrier 2')
  t.equal(await groupUnread(member, g1), 0, 'after ACK of the latest: 0')
  t.equal(await groupUnread(owner, g2), 2, 'the owner has the member\'s two messages unread')
})

t.test('notifications: previews, and none for a removed member', async t => {
  const owner = await registerAndLogin(server)
  const m1 = await registerAndLogin(server)
  const m2 = await registerAndLogin(server)
  const group = await createGroup(owner, [m1, m2])
  const other = await createGroup(owner, [m2])
  const o = await connect(owner)
  const c1 = await connect(m1)
  const c2 = await connect(m2)

  const twenty = '一二三四五六七八九十百千万亿兆京垓秭穰沟'
  const twentyOne = twenty + '涧'
  const ra = await sendGroup(o, group, twenty)
  const rb = await sendGroup(o, group, twentyOne)
  const na = await c1.next(noteFor(group, ra.conversationSeq))
  t.match(na, { uid: ra.uid, fromId: owner.userId, toId: m1.userId, seq: String(ra.conversationSeq), content: twenty }, '20 characters come through whole')
  const nb = await c1.next(noteFor(group, rb.conversationSeq))
  t.equal(nb.content, [...twentyOne].slice(0, 17).join('') + '...', '21 characters: the first 17 and "..."')
  await c2.next(noteFor(group, rb.conversationSeq))
  const own = await o.next(noteFor(group, rb.conversationSeq))
  t.equal(own.clientSeq !== '', true, 'the sender\'s copy carries its clientSeq')

  expectOk(t, await api(server, 'DELETE', `/api/groups/${group}/members/${m2.userId}`, undefined, owner.token), 'remove m2')
  const after = await sendGroup(o, group, 'after removal')
  const marker = await sendGroup(o, other, 'marker')
  await c1.next(noteFor(group, after.conversationSeq))
  // One shard, one connection: m2 gets the marker only after anything the earlier send would have sent it.
  await c2.next(noteFor(other, marker.conversationSeq))
  t.notOk(c2.frames.some(f => f.type === MessageType.GROUP_MESSAGE_NOTIFICATION && f.uid === after.uid), 'the removed member got no 1007')
  expectRefused(t, await api(server, 'POST', '/api/group-messages/pull', { conversations: { [group]: 0 } }, m2.token), 403, 'the removed member may not pull')
  c2.send({ type: MessageType.GROUP_CHAT, conversationId: group, content: 'still here?', clientSeq: randomUUID() })
  const refusal = await c2.next(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED)
  t.equal(refusal.errorCode, 403, 'the removed member may not send')
})
