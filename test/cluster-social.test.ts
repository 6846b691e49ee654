// Issue 14 in cluster mode: two real hosts sharing one PostgreSQL and one redis-server. A friend request
// made on one host reaches its target connected to the other at once (1011), the acceptance reaches the
// requester (1012), and the friendship lets them chat through either host (permission caches follow).
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { ImConnection, MessageType, type DecodedFrame } from '@implus/client'
import { DEFAULT_PASSWORD, api, freePort, readSecrets, registerAndLogin, startServer, type TestServer } from './helpers/server.js'
import { expectOk } from './helpers/envelope.js'
import { killAllRedis, startRedis } from './helpers/redis.js'
import { startS3, stopS3, type S3Server } from './helpers/s3.js'
import { PresenceWatch } from './helpers/presence.js'

type Tap = typeof t
interface User { userId: string, token: string }

let A: TestServer
let B: TestServer
let s3: S3Server
const NODE = { A: 'social-a', B: 'social-b' }
const opened: ImConnection[] = []

let presence: PresenceWatch

t.before(async () => {
  s3 = await startS3()
  const redis = await startRedis()
  presence = await PresenceWatch.start(redis.url)
  const common = { ...s3.env, REDIS_URL: redis.url, IMPLUS_JWT_SECRET: 'cluster-social-jwt-secret-0123456789abcdef', IMPLUS_SHARDS: '2', IMPLUS_DIRECT_FRIENDS: 'false' }
  const pgPort = await freePort()
  A = await startServer({ env: { ...common, IMPLUS_NODE_ID: NODE.A, IMPLUS_EMBEDDED_PG_PORT: String(pgPort) } })
  const databaseUrl = `postgres://postgres:${encodeURIComponent(readSecrets(A.dataDir).embeddedPgPassword)}@127.0.0.1:${pgPort}/implus`
  B = await startServer({ env: { ...common, IMPLUS_NODE_ID: NODE.B, DATABASE_URL: databaseUrl } })
})

t.teardown(async () => {
  for (const c of opened) c.close()
  await B?.stop()
  await A?.stop()
  presence?.stop()
  await killAllRedis()
  if (s3 !== undefined) await stopS3(s3)
})

async function online (t: Tap, host: TestServer, user: User): Promise<ImConnection> {
  const since = presence.log.length
  const c = await ImConnection.open({ transport: 'ws', host: '127.0.0.1', port: host.ports.ws! })
  opened.push(c)
  t.equal((await c.login(user.userId, user.token)).errorCode, 0, `${user.userId} logged in`)
  await presence.announced(host === A ? NODE.A : NODE.B, user.userId, since)
  return c
}

async function send (c: ImConnection, toId: string, content: string): Promise<DecodedFrame> {
  const clientSeq = randomUUID()
  c.send({ type: MessageType.PRIVATE_CHAT, toId, content, clientSeq })
  return await c.next(f => f.clientSeq === clientSeq && (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED), 10_000)
}

t.test('a friend request and its acceptance cross hosts; the friendship applies on both', async t => {
  const alice = await registerAndLogin(A)
  const bob = await registerAndLogin(B)
  const aliceOnA = await online(t, A, alice)
  const bobOnB = await online(t, B, bob)
  t.equal((await send(bobOnB, alice.userId, 'before')).errorCode, 403, 'not friends: refused on B (and cached there)')

  const request = expectOk(t, await api(A, 'POST', '/users/friend-requests', { toId: bob.userId, message: 'from A' }, alice.token), 'request on A')
  const told = await bobOnB.next(f => f.type === MessageType.FRIEND_REQUEST_NOTIFICATION, 10_000)
  t.match(told, { uid: request.requestId, fromId: alice.userId, content: 'from A' }, 'bob on B is told (1011)')

  expectOk(t, await api(B, 'POST', `/users/friend-requests/${request.requestId}/accept`, undefined, bob.token), 'accepted on B')
  const accepted = await aliceOnA.next(f => f.type === MessageType.FRIEND_ACCEPTED_NOTIFICATION, 10_000)
  t.equal(accepted.fromId, bob.userId, 'alice on A is told (1012)')
  t.equal((await send(bobOnB, alice.userId, 'after')).type, MessageType.MESSAGE_SEND_RECEIPT, 'friends: B forgot its cached refusal')
  t.equal((await send(aliceOnA, bob.userId, 'back')).type, MessageType.MESSAGE_SEND_RECEIPT, 'and A allows the other way')
})

t.test('a password change or a deletion on one host applies on the other at once', async t => {
  const alice = await registerAndLogin(A)
  const bob = await registerAndLogin(B)
  const request = expectOk(t, await api(A, 'POST', '/users/friend-requests', { toId: bob.userId }, alice.token), 'request')
  expectOk(t, await api(B, 'POST', `/users/friend-requests/${request.requestId}/accept`, undefined, bob.token), 'accepted')
  const aliceOnB = await online(t, B, alice)
  const bobOnB = await online(t, B, bob)
  t.equal((await send(bobOnB, alice.userId, 'hi')).type, MessageType.MESSAGE_SEND_RECEIPT, 'friends: B allows it (and caches alice)')

  const changed = expectOk(t, await api(A, 'POST', '/users/password', { oldPassword: DEFAULT_PASSWORD, newPassword: 'changed on host A' }, alice.token), 'password changed on A')
  t.match(await aliceOnB.next(f => f.type === MessageType.KICKOUT_NOTIFICATION, 10_000), { errorCode: 401 }, 'alice\'s connection on B is signed out')
  t.equal((await api(B, 'GET', '/users/friends', undefined, alice.token)).status, 401, 'B refuses the old token')

  expectOk(t, await api(A, 'POST', '/users/delete', { password: 'changed on host A' }, changed.token), 'deleted on A')
  t.match(await send(bobOnB, alice.userId, 'still there?'), { errorCode: 404 }, 'B refuses sends to the deleted user at once')
})

t.test('group changes made through one host apply at once on the other; their 1007 crosses hosts', async t => {
  const owner = await registerAndLogin(A)
  const member = await registerAndLogin(B)
  const group = expectOk(t, await api(A, 'POST', '/api/conversations/create', { conversationName: 'cross', members: [member.userId] }, owner.token), 'created on A') as string
  const memberOnB = await online(t, B, member)
  const sendGroup = async (content: string): Promise<DecodedFrame> => {
    const clientSeq = randomUUID()
    memberOnB.send({ type: MessageType.GROUP_CHAT, conversationId: group, content, clientSeq })
    return await memberOnB.next(f => f.clientSeq === clientSeq && (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED), 10_000)
  }
  t.equal((await sendGroup('first')).type, MessageType.MESSAGE_SEND_RECEIPT, 'B\'s shard caches the group')

  const muted = expectOk(t, await api(A, 'POST', `/api/groups/${group}/mute`, { userId: member.userId, seconds: 600 }, owner.token), 'muted on A')
  const note = await memberOnB.next(f => f.type === MessageType.GROUP_MESSAGE_NOTIFICATION && f.contentType === 99, 10_000)
  t.equal(note.conversationSeq, muted.conversationSeq, 'the system message\'s 1007 reaches the member on B')
  t.match(await sendGroup('muted?'), { errorCode: 403 }, 'B refuses the muted member at once')
  const unmuted = expectOk(t, await api(A, 'POST', `/api/groups/${group}/mute`, { userId: member.userId, seconds: 0 }, owner.token), 'unmuted on A')
  // B hears of the change through pub/sub, as fast as Redis carries it: a send racing it on B may still meet
  // the old state. The change's event follows its 1007 on the same Redis connection into B, so once the
  // member's client has the 1007, B is reading the event (the test waits for what a client would see).
  await memberOnB.next(f => f.type === MessageType.GROUP_MESSAGE_NOTIFICATION && f.conversationSeq === unmuted.conversationSeq, 10_000)
  t.equal((await sendGroup('free')).type, MessageType.MESSAGE_SEND_RECEIPT, 'and lets it speak again')
  const dismissed = expectOk(t, await api(A, 'POST', `/api/groups/${group}/dismiss`, undefined, owner.token), 'dismissed on A')
  await memberOnB.next(f => f.type === MessageType.GROUP_MESSAGE_NOTIFICATION && f.conversationSeq === dismissed.conversationSeq, 10_000)
  t.match(await sendGroup('anyone?'), { errorCode: 410 }, 'B refuses sends to the dismissed group')
})
