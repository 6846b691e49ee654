// Issue 10, item 3: a connection the server closes is closed. A client that keeps its side of a TCP socket
// open after a kick (logout elsewhere) can no longer act as the user, and is cut off shortly after its
// 1002; unauthenticated sockets past the login deadline go the same way. Raw sockets with allowHalfOpen
// play the hostile client: they never close their side.

import t from 'tap'
import { connect, type Socket } from 'node:net'
import { randomUUID } from 'node:crypto'
import { MessageType, decodeFrame, encodeFrame, type DecodedFrame, type Frame } from '@implus/client'
import { LengthPrefixDecoder, encodeLengthPrefixed } from '@implus/client/wire'
import { api, registerAndLogin, startServer, waitFor, type TestServer } from './helpers/server.js'
import { loggedIn } from './helpers/clients.js'
import type { ImConnection } from '@implus/client'

let server: TestServer
const opened: ImConnection[] = []
const sockets: Socket[] = []

t.before(async () => {
  server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_LOGIN_TIMEOUT_MS: '1000' } })
})
t.teardown(async () => {
  for (const c of opened) c.close()
  for (const s of sockets) s.destroy()
  await server?.stop()
})

/** A TCP client that never closes its side: it reads frames and notes when the server's side is gone for good. */
interface HalfOpen {
  readonly socket: Socket
  readonly frames: DecodedFrame[]
  send: (frame: Frame) => void
  next: (predicate: (f: DecodedFrame) => boolean) => Promise<DecodedFrame>
  /** Set once the socket is fully closed (a reset, or the server's destroy). */
  closed: boolean
}

async function halfOpen (): Promise<HalfOpen> {
  const socket = connect({ host: '127.0.0.1', port: server.ports.tcp!, allowHalfOpen: true })
  sockets.push(socket)
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject))
  const decoder = new LengthPrefixDecoder(1 << 20)
  const client: HalfOpen = {
    socket,
    frames: [],
    closed: false,
    send: frame => { if (!socket.destroyed) socket.write(encodeLengthPrefixed(encodeFrame(frame))) },
    next: predicate => waitFor(() => client.frames.find(predicate), 10_000, 20)
  }
  socket.on('data', chunk => decoder.push(chunk, bytes => client.frames.push(decodeFrame(bytes))))
  socket.on('error', () => {})
  socket.on('close', () => { client.closed = true })
  return client
}

async function connections (): Promise<number> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith('implus_connections '))
  return Number(line!.slice(line!.lastIndexOf(' ') + 1))
}

/** Heartbeats from our side until the server's destroy shows (our writes get a reset), at most 10 s. */
async function untilCutOff (c: HalfOpen): Promise<void> {
  await waitFor(() => {
    c.send({ type: MessageType.HEARTBEAT })
    return c.closed
  }, 10_000, 200)
}

t.test('after a logout elsewhere, a TCP socket kept open sends nothing as the user and is cut off', async t => {
  const [alice, bob, carol] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const b = await loggedIn(server, bob, opened)
  const c = await loggedIn(server, carol, opened)
  const before = await connections()
  const a = await halfOpen()
  a.send({ type: MessageType.LOGIN, fromId: alice.userId, token: alice.token })
  t.equal((await a.next(f => f.type === MessageType.LOGIN_RESPONSE)).errorCode, 0, 'alice logs in over TCP')

  t.equal((await api(server, 'POST', '/users/logout', undefined, alice.token)).status, 200, 'alice logs out over HTTP')
  t.equal((await a.next(f => f.type === MessageType.KICKOUT_NOTIFICATION)).errorCode, 401, 'the TCP socket gets 1002 401')
  // The hostile client ignores the kick and goes on sending as alice.
  for (let i = 0; i < 5; i++) a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: `after logout ${i}`, clientSeq: randomUUID() })

  await untilCutOff(a)
  t.pass('the server cut the socket off although the client kept its side open')
  await waitFor(async () => await connections() === before, 10_000)
  t.pass('the connection is gone from the server\'s count')

  // A later message on bob's connection: anything alice's socket sent would have arrived before it.
  const clientSeq = randomUUID()
  c.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'from carol', clientSeq })
  await b.next(f => f.type === MessageType.PRIVATE_CHAT && f.fromId === carol.userId, 10_000)
  t.notOk(b.frames.some(f => f.fromId === alice.userId), 'bob received nothing alice\'s socket sent after the kick')
  t.notOk(a.frames.some(f => f.type === MessageType.MESSAGE_SEND_RECEIPT), 'and none of it was stored')
})

t.test('unauthenticated sockets kept half-open are closed at the login deadline, not left behind', async t => {
  const before = await connections()
  const N = 50
  const clients = await Promise.all(Array.from({ length: N }, halfOpen))
  for (const c of clients) t.equal((await c.next(f => f.type === MessageType.KICKOUT_NOTIFICATION)).errorCode, 408, 'login timeout: 1002 408')
  await waitFor(async () => await connections() === before, 15_000)
  t.pass(`all ${N} are gone from the server's count although none closed its side`)
  await Promise.all(clients.map(untilCutOff))
  t.pass('each was cut off')
})
