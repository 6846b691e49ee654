// Issue 14 item 1: friends with consent, over real sockets and HTTP, with the default `friends` policy
// and IMPLUS_DIRECT_FRIENDS=false (POST /users/friends refused: only an accepted request befriends).
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { ImClient, MessageType, type FriendEvent, type ImConnection } from '@implus/client'
import { api, registerAndLogin, startServer, uniqueUserId, type TestServer } from './helpers/server.js'
import { expectOk, expectRefused } from './helpers/envelope.js'
import { loggedIn, type TestUser } from './helpers/clients.js'

let server: TestServer
const sockets: ImConnection[] = []
const clients: ImClient[] = []

t.before(async () => {
  server = await startServer({ env: { IMPLUS_DIRECT_FRIENDS: 'false', IMPLUS_HTTP_RATE_LIMIT: '100000' } })
})
t.teardown(async () => {
  for (const c of sockets) c.close()
  for (const c of clients) c.close()
  await server?.stop()
})

async function sendPrivate (c: ImConnection, toId: string, content: string): Promise<{ type: number, errorCode: number }> {
  const clientSeq = randomUUID()
  c.send({ type: MessageType.PRIVATE_CHAT, toId, content, clientSeq })
  return await c.next(f => f.clientSeq === clientSeq && (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED))
}

const friendIds = async (u: TestUser): Promise<string[]> => (await api(server, 'GET', '/users/friends', undefined, u.token)).body.data.map((f: { userId: string }) => f.userId)

t.test('request, told at once, accepted, then the two can chat', async t => {
  const alice = await registerAndLogin(server)
  const bob = await registerAndLogin(server)
  const aliceSocket = await loggedIn(server, alice, sockets)
  const bobSocket = await loggedIn(server, bob, sockets)

  const refused = await sendPrivate(aliceSocket, bob.userId, 'hi before friends')
  t.equal(refused.errorCode, 403, 'not friends yet: 403')
  expectRefused(t, await api(server, 'POST', '/users/friends', { friendId: bob.userId }, alice.token), 403, 'direct add is off: consent needed')

  const request = expectOk(t, await api(server, 'POST', '/users/friend-requests', { toId: bob.userId, message: 'hi, it is Alice' }, alice.token), 'request')
  t.match(request, { fromId: alice.userId, toId: bob.userId, message: 'hi, it is Alice', status: 0 }, 'a pending request')
  t.match(request.requestId, /^[1-9]\d*$/, 'requestId is a decimal string')
  const told = await bobSocket.next(f => f.type === MessageType.FRIEND_REQUEST_NOTIFICATION)
  t.match(told, { uid: request.requestId, fromId: alice.userId, toId: bob.userId, content: 'hi, it is Alice' }, 'bob is told at once (1011)')

  const again = expectOk(t, await api(server, 'POST', '/users/friend-requests', { toId: bob.userId, message: 'again?' }, alice.token), 'request again')
  t.equal(again.requestId, request.requestId, 'a repeated request is the same pending one')

  const bobs = expectOk(t, await api(server, 'GET', '/users/friend-requests', undefined, bob.token), 'bob lists')
  t.same(bobs.incoming.map((r: { requestId: string }) => r.requestId), [request.requestId], 'incoming: the one request')
  t.same(bobs.outgoing, [], 'bob sent none')
  const alices = expectOk(t, await api(server, 'GET', '/users/friend-requests', undefined, alice.token), 'alice lists')
  t.same(alices.outgoing.map((r: { requestId: string }) => r.requestId), [request.requestId], 'outgoing: the one request')

  expectRefused(t, await api(server, 'POST', `/users/friend-requests/${request.requestId}/accept`, undefined, alice.token), 403, 'the sender cannot accept its own request')
  const accepted = expectOk(t, await api(server, 'POST', `/users/friend-requests/${request.requestId}/accept`, undefined, bob.token), 'accept')
  t.equal(accepted.status, 1, 'accepted')
  const toldAlice = await aliceSocket.next(f => f.type === MessageType.FRIEND_ACCEPTED_NOTIFICATION)
  t.match(toldAlice, { uid: request.requestId, fromId: bob.userId, toId: alice.userId }, 'alice is told at once (1012)')
  t.equal(expectOk(t, await api(server, 'POST', `/users/friend-requests/${request.requestId}/accept`, undefined, bob.token), 'accept twice').status, 1, 'accepting twice is fine')
  expectRefused(t, await api(server, 'POST', `/users/friend-requests/${request.requestId}/decline`, undefined, bob.token), 409, 'declining an accepted request')
  expectRefused(t, await api(server, 'POST', `/users/friend-requests/${request.requestId}/cancel`, undefined, alice.token), 409, 'cancelling an accepted request')

  t.same(await friendIds(alice), [bob.userId], 'alice has bob')
  t.same(await friendIds(bob), [alice.userId], 'bob has alice')
  t.same(expectOk(t, await api(server, 'GET', '/users/friend-requests', undefined, bob.token), 'settled').incoming, [], 'nothing pending any more')
  const sent = await sendPrivate(aliceSocket, bob.userId, 'hello friend')
  t.equal(sent.type, MessageType.MESSAGE_SEND_RECEIPT, 'friends now: the message is accepted')
  const pushed = await bobSocket.next(f => f.type === MessageType.PRIVATE_CHAT)
  t.equal(pushed.content, 'hello friend', 'and delivered')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', { toId: bob.userId }, alice.token), 409, 'requesting a friend')

  expectOk(t, await api(server, 'DELETE', `/users/friends/${alice.userId}`, undefined, bob.token), 'bob removes alice')
  t.same(await friendIds(alice), [], 'removed on both sides')
  t.equal((await sendPrivate(aliceSocket, bob.userId, 'still there?')).errorCode, 403, 'no longer friends: refused at once')
})

t.test('an offline target finds the request on sync; the sender finds the acceptance', async t => {
  const alice = await registerAndLogin(server)
  const bob = await registerAndLogin(server)
  const request = expectOk(t, await api(server, 'POST', '/users/friend-requests', { toId: bob.userId }, alice.token), 'request to an offline user')
  t.equal(request.message, '', 'no message: empty')
  const bobSocket = await loggedIn(server, bob, sockets)
  const listed = expectOk(t, await api(server, 'GET', '/users/friend-requests', undefined, bob.token), 'bob syncs')
  t.same(listed.incoming.map((r: { fromId: string }) => r.fromId), [alice.userId], 'the request is there')
  expectOk(t, await api(server, 'POST', `/users/friend-requests/${request.requestId}/accept`, undefined, bob.token), 'accepted while alice is offline')
  t.same(await friendIds(alice), [bob.userId], 'alice finds bob among her friends')
  t.equal((await sendPrivate(bobSocket, alice.userId, 'welcome')).errorCode, 0, 'bob may write to alice')
})

t.test('asking back accepts; decline and cancel', async t => {
  const [alice, bob, carol] = [await registerAndLogin(server), await registerAndLogin(server), await registerAndLogin(server)]
  const first = expectOk(t, await api(server, 'POST', '/users/friend-requests', { toId: bob.userId }, alice.token), 'alice asks bob')
  const back = expectOk(t, await api(server, 'POST', '/users/friend-requests', { toId: alice.userId }, bob.token), 'bob asks alice')
  t.equal(back.requestId, first.requestId, 'asking back answers the pending request')
  t.equal(back.status, 1, 'with acceptance')
  t.same(await friendIds(bob), [alice.userId], 'friends')

  const toCarol = expectOk(t, await api(server, 'POST', '/users/friend-requests', { toId: carol.userId }, alice.token), 'alice asks carol')
  expectRefused(t, await api(server, 'POST', `/users/friend-requests/${toCarol.requestId}/decline`, undefined, bob.token), 403, 'a stranger cannot decline')
  expectRefused(t, await api(server, 'POST', `/users/friend-requests/${toCarol.requestId}/cancel`, undefined, carol.token), 403, 'the target cannot cancel')
  t.equal(expectOk(t, await api(server, 'POST', `/users/friend-requests/${toCarol.requestId}/decline`, undefined, carol.token), 'decline').status, 2, 'declined')
  t.equal(expectOk(t, await api(server, 'POST', `/users/friend-requests/${toCarol.requestId}/decline`, undefined, carol.token), 'decline twice').status, 2, 'declining twice is fine')
  expectRefused(t, await api(server, 'POST', `/users/friend-requests/${toCarol.requestId}/accept`, undefined, carol.token), 409, 'a declined request cannot be accepted')
  t.same(await friendIds(carol), [], 'declined: no friendship')

  const again = expectOk(t, await api(server, 'POST', '/users/friend-requests', { toId: carol.userId, message: 'please?' }, alice.token), 'a new request after a decline')
  t.not(again.requestId, toCarol.requestId, 'is a new request')
  t.equal(expectOk(t, await api(server, 'POST', `/users/friend-requests/${again.requestId}/cancel`, undefined, alice.token), 'cancel').status, 3, 'cancelled')
  t.equal(expectOk(t, await api(server, 'POST', `/users/friend-requests/${again.requestId}/cancel`, undefined, alice.token), 'cancel twice').status, 3, 'cancelling twice is fine')
  t.same(expectOk(t, await api(server, 'GET', '/users/friend-requests', undefined, carol.token), 'carol lists').incoming, [], 'a cancelled request is gone')
})

t.test('refusals: 400, 404 before 403, blocked, limits', async t => {
  const [alice, bob] = [await registerAndLogin(server), await registerAndLogin(server)]
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', {}, alice.token), 400, 'missing toId')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', { toId: '012' }, alice.token), 400, 'malformed toId')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', { toId: bob.userId, message: 5 }, alice.token), 400, 'message not a string')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', { toId: bob.userId, message: 'x'.repeat(201) }, alice.token), 400, 'message too long')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', { toId: alice.userId }, alice.token), 400, 'self')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', { toId: uniqueUserId() }, alice.token), 404, 'unknown user')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests/abc/accept', undefined, alice.token), 400, 'malformed requestId')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests/999999999999/accept', undefined, alice.token), 404, 'unknown request')
  expectRefused(t, await api(server, 'GET', '/users/friend-requests', undefined, 'not-a-token'), 401, 'a token is needed')

  expectOk(t, await api(server, 'POST', '/users/blacklist', { userId: alice.userId }, bob.token), 'bob blocks alice')
  t.same(expectOk(t, await api(server, 'GET', '/users/blacklist', undefined, bob.token), 'blacklist').map((u: { userId: string }) => u.userId), [alice.userId], 'the blacklist lists alice')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', { toId: bob.userId }, alice.token), 403, 'a blocked user cannot ask')
  expectOk(t, await api(server, 'DELETE', `/users/blacklist/${alice.userId}`, undefined, bob.token), 'unblock')
  t.same(expectOk(t, await api(server, 'GET', '/users/blacklist', undefined, bob.token), 'blacklist'), [], 'empty again')

  // At most 100 requests wait for answers.
  const targets: TestUser[] = []
  for (let i = 0; i < 101; i++) targets.push(await registerAndLogin(server))
  for (const target of targets.slice(0, 100)) expectOk(t, await api(server, 'POST', '/users/friend-requests', { toId: target.userId }, alice.token), 'within the limit')
  expectRefused(t, await api(server, 'POST', '/users/friend-requests', { toId: targets[100]!.userId }, alice.token), 429, 'the 101st pending request')
  const pending = expectOk(t, await api(server, 'GET', '/users/friend-requests', undefined, alice.token), 'list').outgoing
  expectOk(t, await api(server, 'POST', `/users/friend-requests/${pending[0].requestId}/cancel`, undefined, alice.token), 'cancel one')
  expectOk(t, await api(server, 'POST', '/users/friend-requests', { toId: targets[100]!.userId }, alice.token), 'room again after a cancel')
})

t.test('the SDK: events for 1011 and 1012, and the HTTP methods', async t => {
  const [alice, bob] = [await registerAndLogin(server), await registerAndLogin(server)]
  const connect = async (u: TestUser): Promise<ImClient> => {
    const c = await ImClient.connect({ httpUrl: server.httpUrl, host: '127.0.0.1', port: server.ports.ws!, transport: 'ws', userId: u.userId, token: u.token, sync: false })
    clients.push(c)
    return c
  }
  const [a, b] = [await connect(alice), await connect(bob)]
  const asked = new Promise<FriendEvent>(resolve => b.once('friendRequest', resolve))
  const sent = await a.http.sendFriendRequest(bob.userId, 'sdk hello')
  const event = await asked
  t.match(event, { requestId: sent.requestId, fromUserId: alice.userId, message: 'sdk hello' }, 'friendRequest event')
  t.same((await b.http.friendRequests()).incoming.map(r => r.requestId), [sent.requestId], 'friendRequests()')
  const acceptedEvent = new Promise<FriendEvent>(resolve => a.once('friendAccepted', resolve))
  t.equal((await b.http.acceptFriendRequest(sent.requestId)).status, 1, 'acceptFriendRequest()')
  t.equal((await acceptedEvent).fromUserId, bob.userId, 'friendAccepted event')
  t.same((await a.http.friends()).map(f => f.userId), [bob.userId], 'friends()')
  await t.rejects(a.http.addFriend(bob.userId), { status: 403 }, 'addFriend() refused without IMPLUS_DIRECT_FRIENDS')
  await b.http.block(alice.userId)
  t.same((await b.http.blacklist()).map(u => u.userId), [alice.userId], 'blacklist()')
  const other = await registerAndLogin(server)
  const toOther = await a.http.sendFriendRequest(other.userId)
  t.equal((await a.http.cancelFriendRequest(toOther.requestId)).status, 3, 'cancelFriendRequest()')
  const again = await a.http.sendFriendRequest(other.userId)
  const otherClient = await connect(other)
  t.equal((await otherClient.http.declineFriendRequest(again.requestId)).status, 2, 'declineFriendRequest()')
})
