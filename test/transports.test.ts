// Issue 3: the three transports against the real server (dist/), over real sockets. Login, heartbeat and
// logout on each; bad tokens; multi-device and the device cap; every bad input followed by a check that the
// server still serves a fresh client and that an unrelated client noticed nothing; slow readers; the login
// deadline; TCP streams split at every byte boundary; per-conversation order through the shards.

import { createSocket } from 'node:dgram'
import { connect as tcpConnect, type Socket } from 'node:net'
import t from 'tap'
import { ImConnection, MessageType, TransportOpenError, decodeFrame, encodeFrame, type DecodedFrame, type Frame } from '@implus/client'
import { LengthPrefixDecoder, encodeLengthPrefixed } from '@implus/client/wire'
import { ADMIN_TOKEN, api, registerAndLogin, startServer, uniqueUserId, type TestServer, within } from './helpers/server.js'

type Kind = 'ws' | 'tcp' | 'udp'
const KINDS: Kind[] = ['ws', 'tcp', 'udp']
type Tap = typeof t

// Server A: everything but the rate-limit test. Small buffered-bytes bound (slow reader), short login
// deadline, a device cap of 2, two shards, and a rate limit high enough that bursts are not throttled.
let server: TestServer
// Server B: IMPLUS_RATE_LIMIT=20 (a bucket of 100) for the rate-limit test.
let limited: TestServer

const SERVER_A_ENV = {
  IMPLUS_MAX_DEVICES: '2',
  IMPLUS_LOGIN_TIMEOUT_MS: '500',
  IMPLUS_MAX_BUFFERED_BYTES: '16384',
  IMPLUS_SHARDS: '2',
  IMPLUS_RATE_LIMIT: '100000'
}

t.before(async () => {
  server = await startServer({ env: SERVER_A_ENV })
  limited = await startServer({ env: { IMPLUS_RATE_LIMIT: '20' } })
})
t.teardown(async () => {
  await Promise.all([server?.stop(), limited?.stop()])
})

function portFor (s: TestServer, kind: Kind): number {
  const port = s.ports[kind]
  if (port === undefined) throw new Error(`server logged no ${kind} port`)
  return port
}

async function open (s: TestServer, kind: Kind, token?: string): Promise<ImConnection> {
  return await ImConnection.open({ transport: kind, host: '127.0.0.1', port: portFor(s, kind), token })
}

const opened = new Set<ImConnection>()
t.afterEach(() => {
  for (const c of opened) c.close()
  opened.clear()
})

/** A connection of that user, logged in (asserts the 1001 is ok). */
async function online (t: Tap, s: TestServer, kind: Kind, user: { userId: string, token: string }, deviceId?: string): Promise<ImConnection> {
  const c = await open(s, kind, kind === 'udp' ? user.token : undefined)
  opened.add(c)
  const res = await c.login(user.userId, user.token, deviceId)
  t.equal(res.errorCode, 0, `${kind} login of ${user.userId} ok (${res.content})`)
  return c
}

async function befriend (s: TestServer, a: { userId: string, token: string }, b: { userId: string }): Promise<void> {
  const res = await api(s, 'POST', '/users/friends', { friendId: b.userId }, a.token)
  if (res.status !== 200) throw new Error(`friends ${a.userId} -> ${b.userId}: ${res.status} ${JSON.stringify(res.body)}`)
}

let seqCounter = 0
function clientSeq (): string {
  return `cs-${process.pid}-${++seqCounter}-${Math.random().toString(36).slice(2)}`
}

const isType = (type: number) => (f: DecodedFrame) => f.type === type

// ---- health checks after each bad input ---------------------------------------------------------------

interface Bystander { conn: ImConnection, user: { userId: string, token: string }, kind: Kind, seen: number }
const bystanders = new Map<TestServer, Bystander[]>()

/** One logged-in client per transport that never does anything wrong and must notice nothing. */
async function bystandersOf (t: Tap, s: TestServer): Promise<Bystander[]> {
  let list = bystanders.get(s)
  if (list !== undefined) return list
  list = []
  for (const kind of KINDS) {
    const user = await registerAndLogin(s)
    const conn = await open(s, kind, kind === 'udp' ? user.token : undefined)
    const res = await conn.login(user.userId, user.token)
    if (res.errorCode !== 0) throw new Error(`bystander ${kind} login: ${res.errorCode}`)
    list.push({ conn, user, kind, seen: conn.frames.length })
  }
  bystanders.set(s, list)
  return list
}
t.teardown(() => {
  for (const list of bystanders.values()) for (const b of list) b.conn.close()
})

/** The server still serves a fresh client on every transport, and the bystanders got nothing unexpected. */
async function stillHealthy (t: Tap, s: TestServer, after: string): Promise<void> {
  for (const kind of KINDS) {
    const user = await registerAndLogin(s)
    const c = await open(s, kind, kind === 'udp' ? user.token : undefined)
    try {
      const res = await c.login(user.userId, user.token)
      t.equal(res.errorCode, 0, `after ${after}: a fresh ${kind} client logs in`)
      const pong = await c.heartbeat()
      t.equal(pong.content, 'pong', `after ${after}: a fresh ${kind} client gets its pong`)
    } finally {
      c.close()
    }
  }
  for (const b of bystanders.get(s) ?? []) {
    const pong = await b.conn.heartbeat()
    t.equal(pong.content, 'pong', `after ${after}: the ${b.kind} bystander is still served`)
    const extra = b.conn.frames.slice(b.seen).filter(f => f.type !== MessageType.HEARTBEAT_RESPONSE)
    t.same(extra.map(f => f.type), [], `after ${after}: the ${b.kind} bystander received nothing but its pong`)
    b.seen = b.conn.frames.length
  }
}

// ---- login / heartbeat / logout -------------------------------------------------------------------------

t.test('login, heartbeat and logout on each transport', async t => {
  for (const kind of KINDS) {
    const user = await registerAndLogin(server)
    const c = await open(server, kind, kind === 'udp' ? user.token : undefined)
    opened.add(c)
    const res = await c.login(user.userId, user.token, `device-${kind}`)
    t.equal(res.type, MessageType.LOGIN_RESPONSE, `${kind}: 1001`)
    t.equal(res.errorCode, 0, `${kind}: 1001 errorCode 0`)
    t.equal(res.toId, user.userId, `${kind}: 1001 toId is the userId`)
    t.type(res.userSeq, 'number', `${kind}: 1001 carries a numeric userSeq`)
    t.equal(res.userSeq, 0, `${kind}: a new user's latest userSeq is 0`)
    t.ok(res.timestamp > 0, `${kind}: 1001 has a timestamp`)

    const pong = await c.heartbeat()
    t.equal(pong.type, MessageType.HEARTBEAT_RESPONSE, `${kind}: 1003`)
    t.equal(pong.content, 'pong', `${kind}: content "pong"`)
    t.ok(pong.timestamp > 0, `${kind}: 1003 has a timestamp`)

    c.send({ type: MessageType.LOGOUT })
    if (kind === 'udp') {
      // UDP has no close event: the session is gone, so the next datagram with its token is refused.
      c.send({ type: MessageType.HEARTBEAT })
      const err = await c.next(isType(MessageType.ERROR))
      t.equal(err.errorCode, 401, 'udp: after 2002 the session is gone (1009 401 for the next datagram)')
    } else {
      await within(c.closed, 5000, `${kind}: close after 2002`)
      t.pass(`${kind}: after 2002 the server closes the connection`)
    }
  }
})

t.test('WebSocket login by ?token= in the handshake', async t => {
  const user = await registerAndLogin(server)
  const c = await ImConnection.open({ transport: 'ws', host: '127.0.0.1', port: portFor(server, 'ws'), token: user.token, tokenInHandshake: true })
  opened.add(c)
  const first = await c.next(undefined, 5000)
  t.equal(first.type, MessageType.LOGIN_RESPONSE, 'the first frame is 1001, without any 2001 sent')
  t.equal(first.errorCode, 0, '1001 ok')
  t.equal(first.toId, user.userId, '1001 toId is the userId')
  t.type(first.userSeq, 'number', '1001 userSeq is a number')
  t.equal((await c.heartbeat()).content, 'pong', 'the handshake login serves heartbeats')
  const again = await c.login(user.userId, user.token)
  t.equal(again.errorCode, 0, 'a later 2001 gets 1001 again')
  t.equal(again.toId, user.userId, 'the second 1001 names the user too')

  let refused: unknown
  try {
    const bad = await ImConnection.open({ transport: 'ws', host: '127.0.0.1', port: portFor(server, 'ws'), token: user.token + 'x', tokenInHandshake: true })
    bad.close()
  } catch (err) {
    refused = err
  }
  t.ok(refused instanceof TransportOpenError, 'a bad handshake token refuses the upgrade')
  t.equal((refused as TransportOpenError | undefined)?.status, 401, 'with HTTP 401')
})

t.test('a plain HTTP request to the WebSocket port is answered, not left hanging', async t => {
  const base = `http://127.0.0.1:${portFor(server, 'ws')}`
  const atEndpoint = await fetch(`${base}/websocket`)
  t.equal(atEndpoint.status, 426, 'GET /websocket without an upgrade: 426 Upgrade Required')
  t.equal(atEndpoint.headers.get('upgrade'), 'websocket', 'naming the protocol to upgrade to')
  t.match(await atEndpoint.text(), /WebSocket connections .* at \/websocket/, 'and saying what the port is for')
  const elsewhere = await fetch(`${base}/chat?x=1`, { method: 'POST', body: 'hello' })
  t.equal(elsewhere.status, 404, 'another path: 404')
  t.match(await elsewhere.text(), /\/websocket/, 'naming the path that takes WebSockets')
  // The upgrade itself is unchanged.
  const user = await registerAndLogin(server)
  const c = await ImConnection.open({ transport: 'ws', host: '127.0.0.1', port: portFor(server, 'ws') })
  opened.add(c)
  t.equal((await c.login(user.userId, user.token)).errorCode, 0, 'a WebSocket still connects and logs in')
})

t.test('a bad token in 2001 gets 1001 401 on each transport', async t => {
  const user = await registerAndLogin(server)
  for (const kind of KINDS) {
    const badToken = user.token.slice(0, -3) + (user.token.endsWith('AAA') ? 'BBB' : 'AAA')
    const c = await open(server, kind, kind === 'udp' ? badToken : undefined)
    opened.add(c)
    const res = await c.login(user.userId, badToken)
    t.equal(res.errorCode, 401, `${kind}: a tampered token gets 1001 errorCode 401`)
    t.not(res.toId, user.userId, `${kind}: the refusal does not name the user as logged in`)
    const garbage = await open(server, kind, kind === 'udp' ? 'not-a-jwt' : undefined)
    opened.add(garbage)
    t.equal((await garbage.login(user.userId, 'not-a-jwt')).errorCode, 401, `${kind}: a non-JWT token gets 1001 401`)
  }
})

t.test('udp: a reply to an unproven sender is never larger than its datagram (no amplification)', async t => {
  const socket = createSocket('udp4')
  t.teardown(() => socket.close())
  await new Promise<void>(resolve => socket.bind(0, '127.0.0.1', resolve))
  const replies: Buffer[] = []
  let arrived: (() => void) | undefined
  socket.on('message', reply => { replies.push(reply); arrived?.() })
  const exchange = async (frame: Frame): Promise<{ request: Uint8Array, reply: Buffer }> => {
    const request = encodeFrame(frame)
    const got = new Promise<void>(resolve => { arrived = resolve })
    socket.send(request, portFor(server, 'udp'), '127.0.0.1')
    await within(got, 5000, 'a reply datagram')
    return { request, reply: replies.shift()! }
  }
  const user = await registerAndLogin(server)
  const cases: [string, Frame, number, number][] = [
    ['a heartbeat without a token', { type: MessageType.HEARTBEAT, timestamp: Date.now() }, MessageType.ERROR, 401],
    ['a chat frame before login', { type: MessageType.PRIVATE_CHAT, token: user.token, toId: user.userId, content: 'hi', clientSeq: clientSeq() }, MessageType.ERROR, 401],
    ['a login with a short junk token', { type: MessageType.LOGIN, token: 'x', fromId: user.userId }, MessageType.LOGIN_RESPONSE, 401]
  ]
  for (const [what, frame, type, errorCode] of cases) {
    const { request, reply } = await exchange(frame)
    const decoded = decodeFrame(reply)
    t.equal(decoded.type, type, `${what}: answered with ${type}`)
    t.equal(decoded.errorCode, errorCode, `${what}: errorCode ${errorCode}`)
    t.ok(reply.length <= request.length, `${what}: the ${reply.length}-byte reply is no larger than the ${request.length}-byte datagram`)
  }
  const roomy = await exchange({ type: MessageType.HEARTBEAT, timestamp: Date.now(), content: 'x'.repeat(200) })
  t.match(decodeFrame(roomy.reply).content, /not logged in/, 'a datagram with room for the whole reply gets the reason too')
})

t.test('frames before login get 1009 401', async t => {
  for (const kind of KINDS) {
    const user = await registerAndLogin(server)
    // UDP: a datagram with a token but no session yet; WS/TCP: nothing sent before.
    const c = await open(server, kind, kind === 'udp' ? user.token : undefined)
    opened.add(c)
    c.send({ type: MessageType.HEARTBEAT })
    const err = await c.next(isType(MessageType.ERROR))
    t.equal(err.errorCode, 401, `${kind}: a heartbeat before login gets 1009 401`)
    c.send({ type: MessageType.PRIVATE_CHAT, toId: uniqueUserId(), content: 'hi', clientSeq: clientSeq() })
    const err2 = await c.next(f => f.type === MessageType.ERROR || f.type === MessageType.MESSAGE_DELIVERY_FAILED || f.type === MessageType.MESSAGE_SEND_RECEIPT)
    t.equal(err2.type, MessageType.ERROR, `${kind}: a chat frame before login gets 1009`)
    t.equal(err2.errorCode, 401, `${kind}: ... with 401`)
  }
})

// ---- devices --------------------------------------------------------------------------------------------

t.test('multi-device: both connections of a user get the push', async t => {
  const [alice, bob] = [await registerAndLogin(server), await registerAndLogin(server)]
  await befriend(server, alice, bob)
  const bobWs = await online(t, server, 'ws', bob, 'phone')
  const bobTcp = await online(t, server, 'tcp', bob, 'laptop')
  const sender = await online(t, server, 'udp', alice)
  const cs = clientSeq()
  sender.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'to every device', clientSeq: cs })
  const receipt = await sender.next(f => f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED)
  t.equal(receipt.type, MessageType.MESSAGE_SEND_RECEIPT, `sender gets 2007 (${receipt.content})`)
  const [p1, p2] = await Promise.all([bobWs.next(isType(MessageType.PRIVATE_CHAT)), bobTcp.next(isType(MessageType.PRIVATE_CHAT))])
  for (const [name, p] of [['ws', p1], ['tcp', p2]] as const) {
    t.equal(p.uid, receipt.uid, `${name} device: the push has the receipt's uid`)
    t.equal(p.content, 'to every device', `${name} device: content`)
    t.equal(p.fromId, alice.userId, `${name} device: fromId`)
  }
  t.equal(p2.userSeq, p1.userSeq, 'the same userSeq on both devices')
  bobWs.send({ type: MessageType.MESSAGE_ACK, uid: p1.uid })
  bobTcp.send({ type: MessageType.MESSAGE_ACK, uid: p2.uid })
})

t.test('device cap (IMPLUS_MAX_DEVICES=2): a third login kicks the oldest', async t => {
  const user = await registerAndLogin(server)
  const first = await online(t, server, 'tcp', user, 'one')
  const second = await online(t, server, 'ws', user, 'two')
  const third = await online(t, server, 'tcp', user, 'three')
  const kick = await first.next(isType(MessageType.KICKOUT_NOTIFICATION))
  t.type(kick.content, 'string', 'the oldest device gets 1002 with a reason')
  t.equal(kick.errorCode, 409, 'errorCode 409: signed in elsewhere, final')
  t.ok(kick.content.length > 0, `reason: ${kick.content}`)
  await first.closed
  t.pass('and its connection is closed')
  t.equal((await second.heartbeat()).content, 'pong', 'the second device is untouched')
  t.equal((await third.heartbeat()).content, 'pong', 'the third device is served')
  t.notOk(second.frames.some(f => f.type === MessageType.KICKOUT_NOTIFICATION), 'the second device got no 1002')
  const status = await api(server, 'GET', `/users/status/${user.userId}`, undefined, user.token)
  t.equal(status.body?.data?.devices, 2, 'the user holds 2 connections')
})

t.test('logout over HTTP kicks open connections with 1002', async t => {
  const user = await registerAndLogin(server)
  const ws = await online(t, server, 'ws', user)
  const tcp = await online(t, server, 'tcp', user)
  const res = await api(server, 'POST', '/users/logout', undefined, user.token)
  t.equal(res.status, 200, 'POST /users/logout 200')
  for (const [name, c] of [['ws', ws], ['tcp', tcp]] as const) {
    const kick = await c.next(isType(MessageType.KICKOUT_NOTIFICATION))
    t.type(kick.content, 'string', `${name}: 1002`)
    t.equal(kick.errorCode, 401, `${name}: errorCode 401 (logged out, final)`)
    await c.closed
    t.pass(`${name}: closed after the 1002`)
  }
  const again = await open(server, 'tcp')
  opened.add(again)
  t.equal((await again.login(user.userId, user.token)).errorCode, 401, 'the revoked token no longer logs in')
})

t.test('a ban via the admin API kicks with 1002', async t => {
  const user = await registerAndLogin(server)
  const ws = await online(t, server, 'ws', user)
  const tcp = await online(t, server, 'tcp', user)
  const res = await api(server, 'POST', `/admin/users/${user.userId}/status`, { status: 2 }, ADMIN_TOKEN)
  t.equal(res.status, 200, `admin ban 200 (${JSON.stringify(res.body)})`)
  for (const [name, c] of [['ws', ws], ['tcp', tcp]] as const) {
    const kick = await c.next(isType(MessageType.KICKOUT_NOTIFICATION))
    t.type(kick.content, 'string', `${name}: 1002 (${kick.content})`)
    t.equal(kick.errorCode, 403, `${name}: errorCode 403 (banned, final)`)
    await c.closed
    t.pass(`${name}: closed`)
  }
  const again = await open(server, 'ws')
  opened.add(again)
  t.equal((await again.login(user.userId, user.token)).errorCode, 401, 'the banned user cannot log in by frame')
})

// ---- bad input --------------------------------------------------------------------------------------------

t.test('bad input: every case answered, and the server keeps serving', async t => {
  await bystandersOf(t, server)
  const user = await registerAndLogin(server)
  const friend = await registerAndLogin(server)
  await befriend(server, user, friend)

  // Junk bytes (a field tag with wire type 7 and a varint that never ends) on each transport.
  for (const kind of KINDS) {
    const c = await online(t, server, kind, user)
    c.sendRaw(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
    const err = await c.next(isType(MessageType.ERROR))
    t.equal(err.errorCode, 400, `${kind}: junk bytes get 1009 400`)
    c.close()
    await stillHealthy(t, server, `junk bytes on ${kind}`)
  }

  // A truncated protobuf: a valid 3001 cut in the middle of its content field.
  for (const kind of KINDS) {
    const c = await online(t, server, kind, user)
    const whole = encodeFrame({ type: MessageType.PRIVATE_CHAT, toId: friend.userId, content: 'this content is cut short', clientSeq: clientSeq() })
    c.sendRaw(whole.subarray(0, whole.length - 5))
    const err = await c.next(f => f.type === MessageType.ERROR || f.type === MessageType.MESSAGE_DELIVERY_FAILED || f.type === MessageType.MESSAGE_SEND_RECEIPT)
    t.equal(err.type, MessageType.ERROR, `${kind}: a truncated protobuf gets 1009`)
    t.equal(err.errorCode, 400, `${kind}: ... 400`)
    c.close()
    await stillHealthy(t, server, `truncated protobuf on ${kind}`)
  }

  // A known field with the wrong wire type: the routing peek passes it, the full decoder throws on it.
  // Frames the main thread decodes whole (2005 batch ACK, 2006 group ACK, 2008 read receipt) and a chat
  // frame (decoded in its shard) each get 1009 400. Over WebSocket: its frames reach the decoder as a
  // Uint8Array, whose reader throws (a Buffer's reader truncates instead); this used to kill the server.
  for (const type of [MessageType.BATCH_MESSAGE_ACK, MessageType.GROUP_CONVERSATION_ACK, MessageType.MESSAGE_READ_RECEIPT, MessageType.PRIVATE_CHAT]) {
    const c = await online(t, server, 'ws', user)
    const head = encodeFrame({ type, toId: friend.userId, clientSeq: clientSeq() })
    // Field 2 (content, a string) sent as a varint; field 15 (readReceipt, a message) as a varint too.
    c.sendRaw(Uint8Array.from([...head, 0x10, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x78, 0x05]))
    const err = await c.next(f => f.type === MessageType.ERROR || f.type === MessageType.MESSAGE_DELIVERY_FAILED)
    t.equal(err.type, MessageType.ERROR, `type ${type} with a mistyped field gets 1009 (${err.content})`)
    t.equal(err.errorCode, 400, `type ${type}: ... 400`)
    c.close()
    await stillHealthy(t, server, `mistyped field in type ${type}`)
  }

  // An unknown type.
  for (const kind of KINDS) {
    const c = await online(t, server, kind, user)
    c.send({ type: 4242, content: 'what is this' })
    const err = await c.next(isType(MessageType.ERROR))
    t.equal(err.errorCode, 400, `${kind}: type 4242 gets 1009 400`)
    c.close()
    await stillHealthy(t, server, `unknown type on ${kind}`)
  }

  // A WebSocket text frame.
  {
    const c = await online(t, server, 'ws', user)
    c.sendText('{"type":2003}')
    const err = await c.next(isType(MessageType.ERROR))
    t.equal(err.errorCode, 400, 'ws: a text frame gets 1009 400')
    c.close()
    await stillHealthy(t, server, 'a WebSocket text frame')
  }

  // Oversize frame on TCP: a 1009 413, then the connection closes.
  {
    const c = await online(t, server, 'tcp', user)
    const big = encodeFrame({ type: MessageType.HEARTBEAT, content: 'x'.repeat(70 * 1024) })
    c.sendRaw(big)
    const err = await c.next(isType(MessageType.ERROR))
    t.equal(err.errorCode, 413, 'tcp: a frame over 64 KiB gets 1009 413')
    await c.closed
    t.pass('tcp: then the connection is closed')
    await stillHealthy(t, server, 'an oversize TCP frame')
  }
  // A TCP length prefix announcing too much, with no body at all.
  {
    const c = await online(t, server, 'tcp', user)
    const header = Buffer.alloc(4)
    header.writeUInt32BE(0x7fffffff)
    c.sendRaw(header, { unframed: true })
    const err = await c.next(isType(MessageType.ERROR))
    t.equal(err.errorCode, 413, 'tcp: a 2 GiB length prefix gets 1009 413')
    await c.closed
    t.pass('tcp: then the connection is closed')
    await stillHealthy(t, server, 'a 2 GiB TCP length prefix')
  }

  // Oversize frame on WebSocket: closed with code 1009.
  {
    const c = await online(t, server, 'ws', user)
    c.sendRaw(encodeFrame({ type: MessageType.HEARTBEAT, content: 'x'.repeat(70 * 1024) }))
    const info = await c.closed
    t.equal(info.code, 1009, 'ws: a frame over 64 KiB closes the socket with code 1009')
    await stillHealthy(t, server, 'an oversize WebSocket frame')
  }
  // Far over the limit (beyond uWS's own maxPayloadLength): still a close, never a crash.
  {
    const c = await online(t, server, 'ws', user)
    c.sendRaw(encodeFrame({ type: MessageType.HEARTBEAT, content: 'x'.repeat(200 * 1024) }))
    const info = await c.closed
    // docs/protocol.md: any frame over the limit closes the WebSocket with close code 1009 (1006 = no close frame).
    t.equal(info.code, 1009, 'ws: a 200 KiB frame closes the socket with code 1009')
    await stillHealthy(t, server, 'a 200 KiB WebSocket frame')
  }

  // Oversize content (> 16 KiB) in a 3001 on TCP and WS: 1006 413.
  for (const kind of ['tcp', 'ws'] as const) {
    const c = await online(t, server, kind, user)
    const cs = clientSeq()
    c.send({ type: MessageType.PRIVATE_CHAT, toId: friend.userId, content: 'y'.repeat(16 * 1024 + 1), clientSeq: cs })
    const refusal = await c.next(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED || f.type === MessageType.MESSAGE_SEND_RECEIPT)
    t.equal(refusal.type, MessageType.MESSAGE_DELIVERY_FAILED, `${kind}: content over 16 KiB gets 1006`)
    t.equal(refusal.errorCode, 413, `${kind}: ... 413`)
    t.equal(refusal.clientSeq, cs, `${kind}: ... naming the clientSeq`)
    // Multi-byte characters: 16 KiB of UTF-8 is fewer than 16 Ki characters.
    const cs2 = clientSeq()
    c.send({ type: MessageType.PRIVATE_CHAT, toId: friend.userId, content: '字'.repeat(6000), clientSeq: cs2 })
    const refusal2 = await c.next(f => (f.type === MessageType.MESSAGE_DELIVERY_FAILED || f.type === MessageType.MESSAGE_SEND_RECEIPT) && f.clientSeq === cs2)
    t.equal(refusal2.errorCode, 413, `${kind}: 6000 CJK characters (18000 UTF-8 bytes) get 1006 413`)
    t.equal((await c.heartbeat()).content, 'pong', `${kind}: the connection itself is still served`)
    c.close()
    await stillHealthy(t, server, `oversize content on ${kind}`)
  }

  // A UDP datagram over 1200 bytes: 1006 413.
  {
    const c = await online(t, server, 'udp', user)
    const cs = clientSeq()
    c.send({ type: MessageType.PRIVATE_CHAT, toId: friend.userId, content: 'z'.repeat(1500), clientSeq: cs })
    const refusal = await c.next(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED || f.type === MessageType.MESSAGE_SEND_RECEIPT)
    t.equal(refusal.type, MessageType.MESSAGE_DELIVERY_FAILED, 'udp: a datagram over 1200 bytes gets 1006')
    t.equal(refusal.errorCode, 413, 'udp: ... 413')
    t.equal((await c.heartbeat()).content, 'pong', 'udp: the session is still served')
    c.close()
    await stillHealthy(t, server, 'an oversize UDP datagram')
  }
})

t.test('rate limit (IMPLUS_RATE_LIMIT=20, burst 100): a burst within the bucket passes, the next one gets 429s', async t => {
  await bystandersOf(t, limited)
  for (const kind of KINDS) {
    const user = await registerAndLogin(limited)
    const c = await online(t, limited, kind, user)
    const hello = c.frames.find(isType(MessageType.LOGIN_RESPONSE))!
    t.same([hello.rateLimit, hello.rateBurst], [20, 100], `${kind}: 1001 tells the client its rate and burst`)
    const burst = async (n: number): Promise<DecodedFrame[]> => {
      for (let i = 0; i < n; i++) c.send({ type: MessageType.HEARTBEAT })
      // Every heartbeat is answered: a pong or a 429. Wait for all (UDP on loopback drops none at this size).
      const answers: DecodedFrame[] = []
      for (let i = 0; i < n; i++) answers.push(await c.next(f => f.type === MessageType.HEARTBEAT_RESPONSE || f.errorCode === 429, 5000))
      return answers
    }
    // A client that logs in and flushes what it queued: the bucket (100, less the login) takes 90 at once,
    // where a one-second window of 20 would refuse 70 of them.
    const first = await burst(90)
    t.equal(first.filter(f => f.type === MessageType.HEARTBEAT_RESPONSE).length, 90, `${kind}: a burst of 90 right after login is served whole`)
    // The bucket is now nearly empty and refills at 20 a second: most of the next 100 are refused.
    const second = await burst(100)
    const refused = second.filter(f => f.errorCode === 429)
    t.ok(refused.length >= 50, `${kind}: the next burst of 100 is mostly refused with 429 (${refused.length})`)
    t.ok(refused.every(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED || f.type === MessageType.ERROR), `${kind}: 429 answers are 1006 or 1009`)
    c.close()
    await stillHealthy(t, limited, `a heartbeat burst on ${kind}`)
  }
})

t.test('a slow TCP reader is disconnected and the server stays healthy', async t => {
  await bystandersOf(t, server)
  const slow = await registerAndLogin(server)
  const senders = await Promise.all([0, 1, 2, 3].map(() => registerAndLogin(server)))
  for (const s of senders) await befriend(server, s, slow)

  // A raw socket, so it can stop reading (ImConnection always reads).
  const socket: Socket = tcpConnect({ host: '127.0.0.1', port: portFor(server, 'tcp') })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
  socket.on('error', () => {})
  const decoder = new LengthPrefixDecoder(1 << 20)
  const loggedIn = new Promise<DecodedFrame>((resolve) => {
    socket.on('data', chunk => decoder.push(chunk, frame => {
      const f = decodeFrame(frame)
      if (f.type === MessageType.LOGIN_RESPONSE) resolve(f)
    }))
  })
  socket.write(encodeLengthPrefixed(encodeFrame({ type: MessageType.LOGIN, fromId: slow.userId, token: slow.token })))
  t.equal((await loggedIn).errorCode, 0, 'the slow reader logs in')
  socket.pause()

  const conns = await Promise.all(senders.map(s => online(t, server, 'tcp', s)))
  const status = async (): Promise<number> => (await api(server, 'GET', `/users/status/${slow.userId}`, undefined, slow.token)).body?.data?.devices
  t.equal(await status(), 1, 'the slow reader is connected')
  const content = 's'.repeat(16 * 1024 - 16)
  let sent = 0
  let disconnected = false
  // Up to ~40 MiB: far beyond the kernel buffers plus IMPLUS_MAX_BUFFERED_BYTES=16384.
  for (let round = 0; round < 40 && !disconnected; round++) {
    const receipts: Promise<DecodedFrame>[] = []
    for (const c of conns) {
      for (let i = 0; i < 16; i++) {
        const cs = clientSeq()
        c.send({ type: MessageType.PRIVATE_CHAT, toId: slow.userId, content, clientSeq: cs })
        receipts.push(c.next(f => f.clientSeq === cs, 20_000))
        sent++
      }
    }
    const answers = await Promise.all(receipts)
    const refused = answers.filter(f => f.type !== MessageType.MESSAGE_SEND_RECEIPT)
    if (refused.length > 0) t.fail(`round ${round}: ${refused.length} sends refused: ${refused[0]!.errorCode} ${refused[0]!.content}`)
    // No event reaches a client that is not reading: the server's own status says when it dropped the socket.
    disconnected = (await status()) === 0
  }
  t.ok(disconnected, `the slow reader was disconnected (after ${sent} messages of 16 KiB)`)
  socket.resume()
  await within(closed, 10_000, 'the slow reader socket closing')
  t.pass('its socket is closed by the server')
  for (const c of conns) t.equal((await c.heartbeat()).content, 'pong', 'the senders are still served')
  await stillHealthy(t, server, 'a slow reader')
})

t.test('login deadline (IMPLUS_LOGIN_TIMEOUT_MS=500): a silent connection is closed', async t => {
  for (const kind of ['tcp', 'ws'] as const) {
    const c = await open(server, kind)
    opened.add(c)
    const started = Date.now()
    await within(c.closed, 8000, `${kind}: close by the login deadline`)
    t.pass(`${kind}: closed without a login`)
    t.equal(c.frames.find(isType(MessageType.KICKOUT_NOTIFICATION))?.errorCode, 408, `${kind}: the 1002 says 408 (a deadline passed: a client may come back)`)
    const elapsed = Date.now() - started
    t.ok(elapsed >= 400, `${kind}: not before the deadline (${elapsed} ms)`)
    t.ok(elapsed < 5000, `${kind}: soon after the deadline (${elapsed} ms)`)
  }
  // Logged-in connections are not closed by the deadline: the bystanders, connected since the first
  // bad-input test many seconds ago, are checked by stillHealthy.
  await bystandersOf(t, server)
  await stillHealthy(t, server, 'the login deadline')
})

t.test('a TCP stream split at every byte boundary still decodes', async t => {
  const user = await registerAndLogin(server)
  const c = await open(server, 'tcp')
  opened.add(c)
  const loginBytes = encodeLengthPrefixed(encodeFrame({ type: MessageType.LOGIN, fromId: user.userId, token: user.token }))
  const loggedIn = c.next(isType(MessageType.LOGIN_RESPONSE))
  for (const byte of loginBytes) {
    c.sendRaw(Uint8Array.of(byte), { unframed: true })
    // One byte per event-loop turn, so the bytes leave as separate segments.
    await new Promise(resolve => setImmediate(resolve))
  }
  const res = await loggedIn
  t.equal(res.errorCode, 0, 'a login sent one byte at a time logs in')
  t.equal(res.toId, user.userId, '... as the user')

  // Three frames coalesced, then split into two writes at every possible boundary.
  const hb = encodeLengthPrefixed(encodeFrame({ type: MessageType.HEARTBEAT }))
  const three = Buffer.concat([hb, hb, hb])
  for (let k = 1; k < three.length; k++) {
    const pongs = [c.next(isType(MessageType.HEARTBEAT_RESPONSE)), c.next(isType(MessageType.HEARTBEAT_RESPONSE)), c.next(isType(MessageType.HEARTBEAT_RESPONSE))]
    c.sendRaw(three.subarray(0, k), { unframed: true })
    await new Promise(resolve => setImmediate(resolve))
    c.sendRaw(three.subarray(k), { unframed: true })
    const got = await Promise.all(pongs)
    if (!got.every(f => f.content === 'pong')) t.fail(`split at ${k}: 3 pongs`)
  }
  t.pass(`three frames split at each of ${three.length - 1} boundaries: 3 pongs every time`)
  t.equal(c.malformedFrames, 0, 'no malformed frame back')

  // A login and heartbeats coalesced into one write on a fresh connection.
  const user2 = await registerAndLogin(server)
  const c2 = await open(server, 'tcp')
  opened.add(c2)
  const login2 = encodeLengthPrefixed(encodeFrame({ type: MessageType.LOGIN, fromId: user2.userId, token: user2.token }))
  c2.sendRaw(Buffer.concat([login2, hb, hb]), { unframed: true })
  const r2 = await c2.next(isType(MessageType.LOGIN_RESPONSE))
  t.equal(r2.errorCode, 0, 'a login coalesced with heartbeats logs in')
  // The heartbeats were read while the login was being checked: each gets a pong or (if the server
  // processes them before the login completes) a 401. Either way, nothing is lost and the stream stays in sync.
  const after = [await c2.next(f => f.type === MessageType.HEARTBEAT_RESPONSE || f.type === MessageType.ERROR), await c2.next(f => f.type === MessageType.HEARTBEAT_RESPONSE || f.type === MessageType.ERROR)]
  t.ok(after.every(f => f.type === MessageType.HEARTBEAT_RESPONSE ? f.content === 'pong' : f.errorCode === 401),
    `both coalesced heartbeats are answered with a pong or a 401 (${after.map(f => f.type === MessageType.ERROR ? `1009 ${f.errorCode}` : f.content).join(', ')})`)
  t.equal((await c2.heartbeat()).content, 'pong', 'the stream stays in sync afterwards')
})

t.test('frames of one conversation keep their order through the shards (IMPLUS_SHARDS=2)', async t => {
  const [alice, bob] = [await registerAndLogin(server), await registerAndLogin(server)]
  await befriend(server, alice, bob)
  const sender = await online(t, server, 'tcp', alice)
  const receiver = await online(t, server, 'ws', bob)
  const N = 500
  const seqs = Array.from({ length: N }, (_, i) => `order-${String(i).padStart(4, '0')}-${Math.random().toString(36).slice(2, 8)}`)
  const pushes: DecodedFrame[] = []
  const allPushed = new Promise<void>(resolve => {
    receiver.onFrame(f => {
      if (f.type !== MessageType.PRIVATE_CHAT) return
      pushes.push(f)
      if (pushes.length === N) resolve()
    })
  })
  // One burst: all 500 frames written back to back.
  for (let i = 0; i < N; i++) sender.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: `m${i}`, clientSeq: seqs[i] })
  const receipts: DecodedFrame[] = []
  for (let i = 0; i < N; i++) receipts.push(await sender.next(f => f.clientSeq === seqs[i], 20_000))
  await within(allPushed, 20_000, `all ${N} pushes (got ${pushes.length})`)

  t.ok(receipts.every(r => r.type === MessageType.MESSAGE_SEND_RECEIPT), 'every send got a receipt')
  t.same(pushes.map(p => p.content), seqs.map((_, i) => `m${i}`), 'pushes arrive in clientSeq (send) order')
  const base = pushes[0]!.conversationSeq
  t.same(pushes.map(p => p.conversationSeq), Array.from({ length: N }, (_, i) => base + i), 'conversationSeq is contiguous')
  t.equal(base, 1, 'a new conversation starts at conversationSeq 1')
  t.same(receipts.map(r => r.conversationSeq), pushes.map(p => p.conversationSeq), 'receipts carry the same conversationSeqs in the same order')
  const firstUserSeq = pushes[0]!.userSeq
  t.same(pushes.map(p => p.userSeq), Array.from({ length: N }, (_, i) => firstUserSeq + i), "the receiver's userSeq is contiguous")
  for (let i = 0; i < N; i += 100) receiver.send({ type: MessageType.BATCH_MESSAGE_ACK, content: pushes.slice(i, i + 100).map(p => p.uid).join(',') })
})
