import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { Connection, ConnState } from './connection.js'
import { newFramePeek, peekFrame } from './frame-peek.js'
import type { Gateway } from './gateway.js'
import type { SessionRegistry } from './registry.js'
import { encodeFrame, MessageType } from '../proto/codec.js'
import { Status } from '../errors.js'

class UdpConnection extends Connection {
  address: string
  port: number

  constructor (id: number, private readonly socket: Socket, from: RemoteInfo, readonly tokenKey: string, private readonly onEnd: (conn: UdpConnection) => void) {
    super(id)
    this.address = from.address
    this.port = from.port
  }

  protected write (frames: Uint8Array[]): void {
    for (let i = 0; i < frames.length; i++) this.socket.send(frames[i]!, this.port, this.address)
  }

  end (): void {
    this.flush()
    if (this.state === ConnState.CLOSED) return
    this.onEnd(this)
  }
}

export interface UdpServerOptions {
  readonly host: string
  readonly port: number
  readonly maxDatagramBytes: number
}

/**
 * UDP transport: one ChatMessage per datagram, each carrying the token that
 * names its session. Replies go to the address that last sent a valid
 * datagram for the session, so a client may roam between addresses.
 */
export function startUdpServer (gateway: Gateway, registry: SessionRegistry, options: UdpServerOptions): Promise<{ socket: Socket, port: number }> {
  const socket = createSocket({ type: 'udp4', reuseAddr: false })
  const sessions = new Map<string, UdpConnection>()
  const peek = newFramePeek()
  const drop = (conn: UdpConnection): void => {
    if (sessions.get(conn.tokenKey) === conn) sessions.delete(conn.tokenKey)
    gateway.closed(conn)
  }
  const reply = (to: RemoteInfo, frame: Uint8Array): void => { socket.send(frame, to.port, to.address) }

  socket.on('message', (bytes, from) => {
    if (!peekFrame(bytes, peek)) {
      return reply(from, encodeFrame({ type: MessageType.ERROR, errorCode: Status.BAD_REQUEST, content: 'malformed frame', timestamp: Date.now() }))
    }
    let conn = peek.token === '' ? undefined : sessions.get(peek.token)
    if (conn === undefined) {
      if (peek.type !== MessageType.LOGIN || peek.token === '') {
        return reply(from, encodeFrame({ type: MessageType.ERROR, errorCode: Status.UNAUTHORIZED, content: 'not logged in: every datagram carries the token of a logged-in session', timestamp: Date.now() }))
      }
      conn = new UdpConnection(registry.newId(), socket, from, peek.token, drop)
      sessions.set(peek.token, conn)
      gateway.opened(conn)
    } else {
      conn.address = from.address
      conn.port = from.port
    }
    gateway.frame(conn, bytes, options.maxDatagramBytes)
  })

  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(options.port, options.host, () => {
      socket.off('error', reject)
      socket.on('error', () => {})
      resolve({ socket, port: socket.address().port })
    })
  })
}
