import { createSocket, type RemoteInfo } from 'node:dgram'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import t from 'tap'
import { WebSocketServer } from 'ws'
import { ImConnection, MessageType, TransportOpenError, decodeFrame, encodeFrame, type Frame } from '@implus/client'
import { LengthPrefixDecoder, encodeLengthPrefixed } from '@implus/client/wire'

/** Just enough server: answers login and heartbeat, echoes anything else (token included). */
function reply (bytes: Uint8Array): Uint8Array {
  const frame = decodeFrame(bytes)
  if (frame.type === MessageType.LOGIN) return encodeFrame({ type: MessageType.LOGIN_RESPONSE, toId: frame.fromId, token: frame.token })
  if (frame.type === MessageType.HEARTBEAT) return encodeFrame({ type: MessageType.HEARTBEAT_RESPONSE, content: 'pong' })
  return encodeFrame({ ...frame, type: frame.type, content: frame.content, token: frame.token })
}

t.test('tcp', async (t) => {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    const decoder = new LengthPrefixDecoder(64 * 1024)
    socket.on('data', (chunk) =>
      decoder.push(chunk, (frame) => {
        const decoded = decodeFrame(frame)
        if (decoded.type === MessageType.LOGOUT) socket.end()
        // Two replies in one write: the client must split coalesced frames.
        else if (decoded.type === MessageType.GROUP_CHAT) socket.write(Buffer.concat([encodeLengthPrefixed(reply(frame)), encodeLengthPrefixed(reply(frame))]))
        else socket.write(encodeLengthPrefixed(reply(frame)))
      })
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const { port } = server.address() as AddressInfo

  const conn = await ImConnection.open({ transport: 'tcp', host: '127.0.0.1', port })
  const login = await conn.login('42', 'secret')
  t.equal(login.type, MessageType.LOGIN_RESPONSE)
  t.equal(login.toId, '42')
  t.equal((await conn.heartbeat()).content, 'pong')

  conn.send({ type: MessageType.PRIVATE_CHAT, content: 'a', clientSeq: '1' })
  conn.send({ type: MessageType.PRIVATE_CHAT, content: '乙'.repeat(5000), clientSeq: '2' })
  const second = await conn.next((f) => f.clientSeq === '2')
  t.equal(second.content.length, 5000, 'a frame larger than one chunk arrives whole')
  t.equal((await conn.next()).clientSeq, '1', 'an earlier unclaimed frame is still there')

  conn.send({ type: MessageType.GROUP_CHAT, clientSeq: 'g' })
  t.equal((await conn.next()).clientSeq, 'g')
  t.equal((await conn.next()).clientSeq, 'g')

  const raw = encodeLengthPrefixed(encodeFrame({ type: MessageType.PRIVATE_CHAT, clientSeq: 'raw' }))
  conn.sendRaw(raw, { unframed: true })
  t.equal((await conn.next()).clientSeq, 'raw')

  await t.rejects(conn.next(undefined, 20), /no matching frame/, 'times out when nothing comes')

  const pending = conn.next()
  conn.send({ type: MessageType.LOGOUT })
  t.same(await conn.closed, {}, 'server close resolves closed')
  await t.rejects(pending, /connection closed/)
  t.equal(conn.frames.length, 7, 'every frame recorded')
  for (const socket of sockets) socket.destroy()
})

t.test('udp', async (t) => {
  const server = createSocket('udp4')
  const tokens: string[] = []
  server.on('message', (datagram: Buffer, from: RemoteInfo) => {
    tokens.push(decodeFrame(datagram).token)
    server.send(reply(datagram), from.port, from.address)
  })
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve))
  t.teardown(() => server.close())
  const { port } = server.address()

  const conn = await ImConnection.open({ transport: 'udp', host: '127.0.0.1', port, token: 'first' })
  conn.send({ type: MessageType.PRIVATE_CHAT, content: 'hi', token: 'stale' })
  const echoed = await conn.next()
  t.equal(echoed.content, 'hi')
  t.equal(echoed.token, 'first', 'the transport token overrides the frame')

  t.equal((await conn.login('7', 'second')).toId, '7')
  t.equal((await conn.heartbeat()).content, 'pong')
  t.same(tokens, ['first', 'second', 'second'], 'every datagram carries the current token')

  conn.close()
  t.same(await conn.closed, {})
  t.throws(() => conn.sendText('x'), TypeError)
})

t.test('websocket', async (t) => {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    path: '/websocket',
    verifyClient: (info, done) => {
      const token = new URL(info.req.url ?? '', 'ws://x').searchParams.get('token')
      if (token === null || token === 'good') done(true)
      else done(false, 401)
    },
  })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
  server.on('connection', (socket, req) => {
    if (req.url?.includes('token=good')) socket.send(encodeFrame({ type: MessageType.LOGIN_RESPONSE, toId: '1' }))
    socket.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return socket.send(encodeFrame({ type: MessageType.ERROR, errorCode: 400 }))
      const frame = decodeFrame(data)
      if (frame.type === MessageType.LOGOUT) return socket.close(1000, 'bye')
      socket.send(reply(data))
    })
  })
  const { port } = server.address() as AddressInfo
  const base = { transport: 'ws', host: '127.0.0.1', port, tokenInHandshake: true } as const

  const refused = await ImConnection.open({ ...base, token: 'bad' }).catch((err: unknown) => err)
  t.type(refused, TransportOpenError)
  t.equal((refused as TransportOpenError).status, 401)

  const conn = await ImConnection.open({ ...base, token: 'good' })
  t.equal((await conn.next()).type, MessageType.LOGIN_RESPONSE, 'handshake login answers first')
  conn.sendText('not protobuf')
  t.equal((await conn.next()).errorCode, 400)
  const frame: Frame = { type: MessageType.MESSAGE_READ_RECEIPT, readReceipt: { conversationId: 'group_1', lastReadSeq: 5 } }
  conn.send(frame)
  t.equal((await conn.next()).readReceipt?.lastReadSeq, 5)
  conn.send({ type: MessageType.LOGOUT })
  t.same(await conn.closed, { code: 1000, reason: 'bye' })
})
