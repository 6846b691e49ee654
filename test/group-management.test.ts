// Issue 14 item 3: group management over HTTP and real sockets — info, my groups, roster, settings, roles,
// transfer, mutes, the size limit and dismissal — and every change recorded as a system message
// (contentType 99) in the group's own stream, pushed as 1007 and found by the normal pull.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { ImClient, MessageType, type DecodedFrame, type ImConnection, type ImMessage } from '@implus/client'
import { api, registerAndLogin, startServer, uniqueUserId, type TestServer } from './helpers/server.js'
import { expectOk, expectRefused } from './helpers/envelope.js'
import { loggedIn, type TestUser } from './helpers/clients.js'

let server: TestServer
const sockets: ImConnection[] = []
const clients: ImClient[] = []

t.before(async () => {
  server = await startServer({ env: { IMPLUS_MAX_GROUP_MEMBERS: '4', IMPLUS_HTTP_RATE_LIMIT: '100000' } })
})
t.teardown(async () => {
  for (const c of sockets) c.close()
  for (const c of clients) c.close()
  await server?.stop()
})

async function createGroup (owner: TestUser, members: TestUser[], name = 'team'): Promise<string> {
  const res = await api(server, 'POST', '/api/conversations/create', { conversationName: name, members: members.map(m => m.userId) }, owner.token)
  if (res.status !== 200) throw new Error(`create: ${JSON.stringify(res.body)}`)
  return res.body.data as string
}

async function sendGroup (c: ImConnection, conversationId: string, content: string): Promise<DecodedFrame> {
  const clientSeq = randomUUID()
  c.send({ type: MessageType.GROUP_CHAT, conversationId, content, clientSeq })
  return await c.next(f => f.clientSeq === clientSeq && (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED))
}

/** The group's stream from seq 1, as a member pulls it. */
async function history (user: TestUser, conversationId: string): Promise<{ conversationSeq: number, contentType: number, content: string, fromUserId: string }[]> {
  return expectOk(t, await api(server, 'POST', '/api/messages/pull', { conversationId, startSeq: 1, limit: 100 }, user.token), 'pull').messages
}

const systemNote = (conversationId: string) => (f: DecodedFrame): boolean =>
  f.type === MessageType.GROUP_MESSAGE_NOTIFICATION && f.conversationId === conversationId && f.contentType === 99

t.test('info, my groups, roster; every change a system message with its conversationSeq', async t => {
  const [owner, admin, member, late] = [await registerAndLogin(server), await registerAndLogin(server), await registerAndLogin(server), await registerAndLogin(server)]
  expectOk(t, await api(server, 'POST', '/users/profile', { displayName: 'Olivia' }, owner.token), 'owner has a display name')
  const group = await createGroup(owner, [admin, member])
  const memberSocket = await loggedIn(server, member, sockets)

  const info = expectOk(t, await api(server, 'GET', `/api/groups/${group}`, undefined, member.token), 'info')
  t.match(info, { conversationId: group, name: 'team', notice: null, ownerId: owner.userId, admins: [], memberCount: 3, maxMembers: 4, status: 1, muteAll: false }, 'as created')
  expectRefused(t, await api(server, 'GET', `/api/groups/${group}`, undefined, late.token), 403, 'info is for members')
  expectRefused(t, await api(server, 'GET', '/api/groups/group_999999999', undefined, late.token), 404, 'unknown group')
  const mine = expectOk(t, await api(server, 'GET', '/api/groups', undefined, admin.token), 'my groups')
  t.match(mine.find((g: { conversationId: string }) => g.conversationId === group), { name: 'team', memberCount: 3, status: 1, role: 0 }, 'listed with the caller\'s role')

  const appointed = expectOk(t, await api(server, 'POST', `/api/groups/${group}/admins`, { userId: admin.userId, admin: true }, owner.token), 'appoint an admin')
  t.match(appointed, { conversationSeq: 1 }, 'recorded as the stream\'s first message')
  const note = await memberSocket.next(systemNote(group))
  t.match(note, { conversationSeq: 1, fromId: owner.userId, content: /^Olivia made .{5}\.\.\.$/ }, 'members get the 1007, its preview cut from the readable text')
  t.equal(expectOk(t, await api(server, 'POST', `/api/groups/${group}/admins`, { userId: admin.userId, admin: true }, owner.token), 'again'), null, 'appointing again changes nothing (null)')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/admins`, { userId: member.userId, admin: true }, admin.token), 403, 'only the owner appoints')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/admins`, { userId: late.userId, admin: true }, owner.token), 404, 'not a member: 404')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/admins`, { userId: member.userId, admin: 'yes' }, owner.token), 400, 'admin not a boolean')

  expectOk(t, await api(server, 'POST', `/api/groups/${group}/settings`, { name: 'renamed', notice: 'be nice' }, admin.token), 'an admin renames and sets the notice')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/settings`, { name: 'mine' }, member.token), 403, 'a member may not')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/settings`, {}, admin.token), 400, 'nothing to change')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/settings`, { avatarUrl: 'file:///etc/passwd' }, admin.token), 400, 'avatar not http(s)')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/settings`, { name: '' }, admin.token), 400, 'empty name')
  t.match(expectOk(t, await api(server, 'GET', `/api/groups/${group}`, undefined, member.token), 'info'), { name: 'renamed', notice: 'be nice', admins: [admin.userId] }, 'info shows it')

  expectOk(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: [late.userId] }, admin.token), 'an admin adds a member')
  const roster = expectOk(t, await api(server, 'GET', `/api/groups/${group}/roster`, undefined, late.token), 'roster')
  t.same(roster.map((m: { userId: string, role: number }) => [m.userId, m.role]), [[owner.userId, 1], [admin.userId, 2], [member.userId, 0], [late.userId, 0]], 'roles in join order')

  const stream = await history(member, group)
  t.same(stream.map(m => m.conversationSeq), [1, 2, 3, 4], 'one message per change, gap-free')
  t.ok(stream.every(m => m.contentType === 99), 'all system messages (contentType 99)')
  t.same(stream.map(m => JSON.parse(m.content).event), ['adminAdded', 'renamed', 'noticeChanged', 'membersAdded'], 'in order')
  t.same(JSON.parse(stream[3]!.content).userIds, [late.userId], 'naming who was added')
  const lateList = expectOk(t, await api(server, 'POST', '/api/conversations/sync', {}, late.token), 'the new member\'s conversations')
  t.equal(lateList.conversations.find((c: { conversationId: string }) => c.conversationId === group).unreadCount, 1, 'its unread count starts at its arrival: the message naming it')
})

t.test('mutes: one member for a time, or the whole group', async t => {
  const [owner, admin, member] = [await registerAndLogin(server), await registerAndLogin(server), await registerAndLogin(server)]
  const group = await createGroup(owner, [admin, member])
  expectOk(t, await api(server, 'POST', `/api/groups/${group}/admins`, { userId: admin.userId, admin: true }, owner.token), 'admin')
  const [adminSocket, memberSocket] = [await loggedIn(server, admin, sockets), await loggedIn(server, member, sockets)]

  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/mute`, { userId: owner.userId, seconds: 60 }, admin.token), 403, 'nobody mutes the owner')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/mute`, { userId: admin.userId, seconds: 60 }, member.token), 403, 'a member mutes nobody')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/mute`, { userId: member.userId }, admin.token), 400, 'seconds missing')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/mute`, { userId: member.userId, seconds: 31 * 24 * 3600 }, admin.token), 400, 'over 30 days')
  const muted = expectOk(t, await api(server, 'POST', `/api/groups/${group}/mute`, { userId: member.userId, seconds: 600 }, admin.token), 'an admin mutes a member')
  t.ok(muted.conversationSeq > 0, 'recorded')
  const refused = await sendGroup(memberSocket, group, 'can I speak?')
  t.match(refused, { type: MessageType.MESSAGE_DELIVERY_FAILED, errorCode: 403, content: /muted in this group/ }, 'the muted member is refused at once')
  t.ok(expectOk(t, await api(server, 'GET', `/api/groups/${group}/roster`, undefined, member.token), 'roster').find((m: { userId: string }) => m.userId === member.userId).mutedUntil, 'the roster shows the mute')
  expectOk(t, await api(server, 'POST', `/api/groups/${group}/mute`, { userId: member.userId, seconds: 0 }, admin.token), 'lifted')
  t.equal((await sendGroup(memberSocket, group, 'thanks')).type, MessageType.MESSAGE_SEND_RECEIPT, 'may speak again')
  t.equal(expectOk(t, await api(server, 'POST', `/api/groups/${group}/mute`, { userId: member.userId, seconds: 0 }, admin.token), 'lift again'), null, 'lifting again changes nothing')

  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/mute-all`, { muted: true }, member.token), 403, 'a member cannot mute the group')
  expectOk(t, await api(server, 'POST', `/api/groups/${group}/mute-all`, { muted: true }, admin.token), 'mute all')
  t.match(await sendGroup(memberSocket, group, 'hello?'), { errorCode: 403, content: /group is muted/ }, 'members may not send')
  t.equal((await sendGroup(adminSocket, group, 'announcement')).type, MessageType.MESSAGE_SEND_RECEIPT, 'admins may')
  t.equal(expectOk(t, await api(server, 'GET', `/api/groups/${group}`, undefined, member.token), 'info').muteAll, true, 'info says so')
  expectOk(t, await api(server, 'POST', `/api/groups/${group}/mute-all`, { muted: false }, owner.token), 'unmute all')
  t.equal((await sendGroup(memberSocket, group, 'free again')).type, MessageType.MESSAGE_SEND_RECEIPT, 'members may send again')
  const events = (await history(owner, group)).filter(m => m.contentType === 99).map(m => JSON.parse(m.content).event)
  t.same(events, ['adminAdded', 'memberMuted', 'memberUnmuted', 'allMuted', 'allUnmuted'], 'each change is in the stream')
})

t.test('remove by role, the removed member told once, transfer, size limit', async t => {
  const [owner, admin, a, b, extra] = [await registerAndLogin(server), await registerAndLogin(server), await registerAndLogin(server), await registerAndLogin(server), await registerAndLogin(server)]
  const group = await createGroup(owner, [admin, a])
  expectOk(t, await api(server, 'POST', `/api/groups/${group}/admins`, { userId: admin.userId, admin: true }, owner.token), 'admin')
  expectOk(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: [b.userId] }, owner.token), 'fourth member')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: [extra.userId] }, owner.token), 409, 'the group is full (IMPLUS_MAX_GROUP_MEMBERS=4)')
  expectRefused(t, await api(server, 'POST', '/api/conversations/create', { conversationName: 'big', members: [admin.userId, a.userId, b.userId, extra.userId] }, owner.token), 400, 'created too big')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: [uniqueUserId()] }, a.token), 404, 'an unknown user: 404 before the role\'s 403')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: [extra.userId] }, a.token), 403, 'a member may not add')

  const bSocket = await loggedIn(server, b, sockets)
  const aSocket = await loggedIn(server, a, sockets)
  expectRefused(t, await api(server, 'DELETE', `/api/groups/${group}/members/${owner.userId}`, undefined, admin.token), 403, 'an admin cannot remove the owner')
  expectRefused(t, await api(server, 'DELETE', `/api/groups/${group}/members/${b.userId}`, undefined, a.token), 403, 'a member cannot remove others')
  expectOk(t, await api(server, 'DELETE', `/api/groups/${group}/members/${b.userId}`, undefined, admin.token), 'an admin removes a member')
  const told = await bSocket.next(systemNote(group))
  t.match(JSON.parse((await history(a, group)).at(-1)!.content), { event: 'memberRemoved', userIds: [b.userId] }, 'recorded')
  t.equal(told.conversationSeq, (await history(a, group)).at(-1)!.conversationSeq, 'the removed member is told once (1007 of the removal)')
  const after = await sendGroup(aSocket, group, 'after b left')
  t.equal(after.type, MessageType.MESSAGE_SEND_RECEIPT, 'the group goes on')
  expectRefused(t, await api(server, 'POST', '/api/messages/pull', { conversationId: group, startSeq: 1 }, b.token), 403, 'and the removed member sees nothing new')
  t.notOk(bSocket.frames.some(f => f.type === MessageType.GROUP_MESSAGE_NOTIFICATION && f.conversationSeq === after.conversationSeq), 'no 1007 of later messages')

  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/transfer`, { userId: a.userId }, admin.token), 403, 'only the owner transfers')
  expectOk(t, await api(server, 'POST', `/api/groups/${group}/transfer`, { userId: a.userId }, owner.token), 'transfer to a')
  const info = expectOk(t, await api(server, 'GET', `/api/groups/${group}`, undefined, owner.token), 'info')
  t.equal(info.ownerId, a.userId, 'a owns the group')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/dismiss`, undefined, owner.token), 403, 'the former owner is a member now')
  expectOk(t, await api(server, 'DELETE', `/api/groups/${group}/members/${owner.userId}`, undefined, a.token), 'the new owner removes the old one')
})

t.test('dismiss: sends refused with 410, history stays readable, changes refused', async t => {
  const [owner, member] = [await registerAndLogin(server), await registerAndLogin(server)]
  const group = await createGroup(owner, [member])
  const memberSocket = await loggedIn(server, member, sockets)
  t.equal((await sendGroup(memberSocket, group, 'before')).type, MessageType.MESSAGE_SEND_RECEIPT, 'sent before')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/dismiss`, undefined, member.token), 403, 'only the owner dismisses')
  const dismissed = expectOk(t, await api(server, 'POST', `/api/groups/${group}/dismiss`, undefined, owner.token), 'dismiss')
  t.equal(dismissed.conversationSeq, 2, 'the last message of the stream')
  t.equal(expectOk(t, await api(server, 'POST', `/api/groups/${group}/dismiss`, undefined, owner.token), 'dismiss again'), null, 'dismissing again is fine')
  t.match(await sendGroup(memberSocket, group, 'after'), { type: MessageType.MESSAGE_DELIVERY_FAILED, errorCode: 410 }, 'sends: 410')
  t.same((await history(member, group)).map(m => m.content.startsWith('{') ? JSON.parse(m.content).event : m.content), ['before', 'dismissed'], 'history readable')
  t.equal(expectOk(t, await api(server, 'GET', `/api/groups/${group}`, undefined, member.token), 'info').status, 2, 'status 2')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/settings`, { name: 'zombie' }, owner.token), 410, 'no more changes')
  expectRefused(t, await api(server, 'POST', `/api/groups/${group}/members`, { userIds: [member.userId] }, owner.token), 410, 'no more members')
  expectOk(t, await api(server, 'DELETE', `/api/groups/${group}/members/${member.userId}`, undefined, member.token), 'a member may still leave')
})

t.test('the SDK: group methods, and system messages delivered as messages', async t => {
  const [owner, member] = [await registerAndLogin(server), await registerAndLogin(server)]
  const group = await createGroup(owner, [member])
  const connect = async (u: TestUser): Promise<ImClient> => {
    const c = await ImClient.connect({ httpUrl: server.httpUrl, host: '127.0.0.1', port: server.ports.ws!, transport: 'ws', userId: u.userId, token: u.token })
    clients.push(c)
    return c
  }
  const [o, m] = [await connect(owner), await connect(member)]
  const delivered = new Promise<ImMessage>(resolve => m.on('message', msg => { if (msg.contentType === 99) resolve(msg) }))
  t.match(await o.http.updateGroup(group, { notice: 'from the SDK' }), { conversationSeq: 1 }, 'updateGroup()')
  const system = await delivered
  t.match(JSON.parse(system.content), { event: 'noticeChanged', notice: 'from the SDK' }, 'the member\'s client delivers the system message')
  t.equal((await m.http.groupInfo(group)).notice, 'from the SDK', 'groupInfo()')
  t.ok((await m.http.myGroups()).some(g => g.conversationId === group), 'myGroups()')
  t.equal((await m.http.roster(group)).length, 2, 'roster()')
  await o.http.setGroupAdmin(group, member.userId, true)
  await o.http.muteMember(group, member.userId, 60)
  await o.http.muteGroup(group, true)
  await o.http.transferGroup(group, member.userId)
  t.equal((await m.http.dismissGroup(group))?.conversationSeq, 6, 'the new owner dismisses: the sixth change')
})
