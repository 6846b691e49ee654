// Issue 14 item 2: usernames (unique, login by username), display names and avatars, lookup by username,
// password change revoking every other token, and the seed's soft delete — over HTTP and real sockets.
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { ImClient, MessageType, type ImConnection } from '@implus/client'
import { DEFAULT_PASSWORD, api, startServer, uniqueUserId, type TestServer } from './helpers/server.js'
import { expectOk, expectRefused } from './helpers/envelope.js'
import { loggedIn, type TestUser } from './helpers/clients.js'

let server: TestServer
const sockets: ImConnection[] = []
const clients: ImClient[] = []

t.before(async () => {
  server = await startServer({ env: { IMPLUS_HTTP_RATE_LIMIT: '100000' } })
})
t.teardown(async () => {
  for (const c of sockets) c.close()
  for (const c of clients) c.close()
  await server?.stop()
})

const uniqueName = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`

async function signUp (username = uniqueName('user'), extra: Record<string, unknown> = {}): Promise<TestUser & { username: string }> {
  const userId = uniqueUserId()
  const registered = await api(server, 'POST', '/users/register', { userId, username, password: DEFAULT_PASSWORD, ...extra })
  if (registered.status !== 200) throw new Error(`register ${username}: ${JSON.stringify(registered.body)}`)
  const login = await api(server, 'POST', '/users/login', { username, password: DEFAULT_PASSWORD })
  if (login.status !== 200) throw new Error(`login ${username}: ${JSON.stringify(login.body)}`)
  return { userId, username, token: login.body.data.token }
}

async function befriend (a: TestUser, b: TestUser): Promise<void> {
  const r = await api(server, 'POST', '/users/friend-requests', { toId: b.userId }, a.token)
  await api(server, 'POST', `/users/friend-requests/${r.body.data.requestId}/accept`, undefined, b.token)
}

t.test('usernames are unique (case-insensitively) and log in like ids', async t => {
  const name = uniqueName('Alice')
  const alice = await signUp(name, { displayName: 'Alice A.', avatarUrl: 'https://example.com/a.png' })
  t.ok(alice.token, 'login by username')
  expectRefused(t, await api(server, 'POST', '/users/register', { userId: uniqueUserId(), username: name.toUpperCase(), password: DEFAULT_PASSWORD }), 409, 'a taken username, other case')
  const byId = expectOk(t, await api(server, 'POST', '/users/login', { userId: alice.userId, password: DEFAULT_PASSWORD }), 'login by id still works')
  t.equal(byId.username, name)
  expectOk(t, await api(server, 'POST', '/users/login', { username: name.toLowerCase(), password: DEFAULT_PASSWORD }), 'login by username in another case')
  expectRefused(t, await api(server, 'POST', '/users/login', { username: name, password: 'wrong password' }), 401, 'wrong password')
  expectRefused(t, await api(server, 'POST', '/users/login', { username: uniqueName('nobody'), password: DEFAULT_PASSWORD }), 401, 'unknown username: the same 401')
  expectRefused(t, await api(server, 'POST', '/users/login', { password: DEFAULT_PASSWORD }), 400, 'neither userId nor username')
  expectRefused(t, await api(server, 'POST', '/users/register', { userId: uniqueUserId(), username: 'tab\tname', password: DEFAULT_PASSWORD }), 400, 'control characters')
  expectRefused(t, await api(server, 'POST', '/users/register', { userId: uniqueUserId(), username: uniqueName('x'), password: DEFAULT_PASSWORD, avatarUrl: 'javascript:alert(1)' }), 400, 'an avatar that is not http(s)')
  expectRefused(t, await api(server, 'POST', '/users/register', { userId: uniqueUserId(), username: uniqueName('x'), password: DEFAULT_PASSWORD, displayName: 'x'.repeat(65) }), 400, 'a display name too long')
})

t.test('profiles: read, look up by username, edit', async t => {
  const alice = await signUp(undefined, { displayName: 'Alice A.', avatarUrl: 'https://example.com/a.png' })
  const bob = await signUp()
  const profile = expectOk(t, await api(server, 'GET', `/users/profile/${alice.userId}`, undefined, bob.token), 'profile')
  t.same(profile, { userId: alice.userId, username: alice.username, displayName: 'Alice A.', avatarUrl: 'https://example.com/a.png', deleted: false }, 'as registered')
  t.same(expectOk(t, await api(server, 'GET', `/users/profile/${bob.userId}`, undefined, bob.token), 'no display name').displayName, bob.username, 'the username stands in for a missing display name')
  t.same(expectOk(t, await api(server, 'GET', `/users/by-username/${encodeURIComponent(alice.username.toUpperCase())}`, undefined, bob.token), 'lookup').userId, alice.userId, 'found by username, any case')
  expectRefused(t, await api(server, 'GET', `/users/by-username/${uniqueName('ghost')}`, undefined, bob.token), 404, 'unknown username')
  expectRefused(t, await api(server, 'GET', `/users/profile/${uniqueUserId()}`, undefined, bob.token), 404, 'unknown user')
  const listed = expectOk(t, await api(server, 'POST', '/users/profiles', { userIds: [bob.userId, uniqueUserId(), alice.userId] }, bob.token), 'profiles')
  t.same(listed.map((p: { userId: string }) => p.userId), [bob.userId, alice.userId], 'in the order asked, unknown ones left out')
  expectRefused(t, await api(server, 'POST', '/users/profiles', { userIds: 'x' }, bob.token), 400, 'userIds not a list')

  const edited = expectOk(t, await api(server, 'POST', '/users/profile', { displayName: 'Alice Liddell' }, alice.token), 'edit the name')
  t.match(edited, { displayName: 'Alice Liddell', avatarUrl: 'https://example.com/a.png' }, 'the avatar stays')
  t.equal(expectOk(t, await api(server, 'POST', '/users/profile', { avatarUrl: null }, alice.token), 'clear the avatar').avatarUrl, null, 'cleared')
  expectRefused(t, await api(server, 'POST', '/users/profile', {}, alice.token), 400, 'nothing to change')
  expectRefused(t, await api(server, 'POST', '/users/profile', { avatarUrl: 'ftp://x/y' }, alice.token), 400, 'not http(s)')
  t.equal(expectOk(t, await api(server, 'GET', `/users/profile/${alice.userId}`, undefined, bob.token), 'seen by bob').displayName, 'Alice Liddell', 'others see the change')
})

t.test('changing the password revokes every other token and signs other devices out', async t => {
  const alice = await signUp()
  const second = (await api(server, 'POST', '/users/login', { userId: alice.userId, password: DEFAULT_PASSWORD })).body.data.token
  const socket = await loggedIn(server, alice, sockets)
  expectRefused(t, await api(server, 'POST', '/users/password', { oldPassword: 'not it', newPassword: 'a new password' }, alice.token), 403, 'wrong old password')
  expectRefused(t, await api(server, 'POST', '/users/password', { oldPassword: DEFAULT_PASSWORD, newPassword: 'short' }, alice.token), 400, 'too short')
  const changed = expectOk(t, await api(server, 'POST', '/users/password', { oldPassword: DEFAULT_PASSWORD, newPassword: 'a new password' }, alice.token), 'change')
  const kicked = await socket.next(f => f.type === MessageType.KICKOUT_NOTIFICATION)
  t.match(kicked, { errorCode: 401, content: 'password changed' }, 'connections get 1002 (401)')
  expectRefused(t, await api(server, 'GET', '/users/friends', undefined, second), 401, 'another session\'s token is revoked')
  expectRefused(t, await api(server, 'GET', '/users/friends', undefined, alice.token), 401, 'the old token too')
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, changed.token), 'the token answered works')
  expectRefused(t, await api(server, 'POST', '/users/login', { userId: alice.userId, password: DEFAULT_PASSWORD }), 401, 'the old password no longer logs in')
  expectOk(t, await api(server, 'POST', '/users/login', { userId: alice.userId, password: 'a new password' }), 'the new one does')
})

t.test('a deleted account: logins and sends refused, history kept for the other side, shown as deleted', async t => {
  const alice = await signUp()
  const bob = await signUp()
  await befriend(alice, bob)
  const aliceSocket = await loggedIn(server, alice, sockets)
  const bobSocket = await loggedIn(server, bob, sockets)
  const clientSeq = randomUUID()
  aliceSocket.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'remember me', clientSeq })
  await aliceSocket.next(f => f.clientSeq === clientSeq && f.type === MessageType.MESSAGE_SEND_RECEIPT)
  await bobSocket.next(f => f.type === MessageType.PRIVATE_CHAT)

  expectRefused(t, await api(server, 'POST', '/users/delete', { password: 'not it' }, alice.token), 403, 'the password is needed')
  expectOk(t, await api(server, 'POST', '/users/delete', { password: DEFAULT_PASSWORD }, alice.token), 'delete')
  t.match(await aliceSocket.next(f => f.type === MessageType.KICKOUT_NOTIFICATION), { errorCode: 401, content: 'account deleted' }, 'signed out at once')
  expectRefused(t, await api(server, 'GET', '/users/friends', undefined, alice.token), 401, 'tokens revoked')
  expectRefused(t, await api(server, 'POST', '/users/login', { userId: alice.userId, password: DEFAULT_PASSWORD }), 403, 'login refused')
  expectRefused(t, await api(server, 'POST', '/users/register', { userId: uniqueUserId(), username: alice.username, password: DEFAULT_PASSWORD }), 409, 'the username stays taken')

  const seq = randomUUID()
  bobSocket.send({ type: MessageType.PRIVATE_CHAT, toId: alice.userId, content: 'hello?', clientSeq: seq })
  t.match(await bobSocket.next(f => f.clientSeq === seq && f.type === MessageType.MESSAGE_DELIVERY_FAILED), { errorCode: 404 }, 'sends to a deleted user: 404')
  const history = expectOk(t, await api(server, 'POST', '/api/messages/pull-batch', { fromSeq: 1 }, bob.token), 'bob pulls')
  t.same(history.messages.map((m: { content: string }) => m.content), ['remember me'], 'history is kept for the other side')
  t.match(expectOk(t, await api(server, 'GET', `/users/profile/${alice.userId}`, undefined, bob.token), 'profile'), { deleted: true, displayName: 'Deleted user', avatarUrl: null }, 'shown as a deleted user')
  t.equal(expectOk(t, await api(server, 'GET', `/users/info/${alice.userId}`, undefined, bob.token), 'info').status, 3, 'info: status 3')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', { toId: alice.userId }, bob.token), 404, 'no requests to a deleted user')
  expectRefused(t, await api(server, 'POST', '/api/conversations/create', { conversationName: 'g', members: [alice.userId] }, bob.token), 404, 'nor groups with it')
})

t.test('the SDK methods', async t => {
  const alice = await signUp()
  const c = await ImClient.connect({ httpUrl: server.httpUrl, host: '127.0.0.1', port: server.ports.ws!, transport: 'ws', userId: alice.userId, token: alice.token, sync: false })
  clients.push(c)
  t.equal((await c.http.updateProfile({ displayName: 'SDK Alice' })).displayName, 'SDK Alice', 'updateProfile()')
  t.equal((await c.http.profile(alice.userId)).displayName, 'SDK Alice', 'profile()')
  t.equal((await c.http.findByUsername(alice.username)).userId, alice.userId, 'findByUsername()')
  t.same((await c.http.profiles([alice.userId])).map(p => p.userId), [alice.userId], 'profiles()')
  const login = await c.http.loginByUsername(alice.username, DEFAULT_PASSWORD)
  t.equal(login.userId, alice.userId, 'loginByUsername()')
  const changed = await c.http.changePassword(DEFAULT_PASSWORD, 'another password 1')
  t.equal(c.http.token, changed.token, 'changePassword() keeps the client signed in with the new token')
  await c.http.deleteAccount('another password 1')
  t.equal(c.http.token, null, 'deleteAccount() forgets the token')
})
