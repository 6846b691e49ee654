import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { Connection, ConnState } from './connection.js'
import { newFramePeek, peekFrame } from './frame-peek.js'
import type { Gateway } from './gateway.js'
import type { SessionRegistry } from './registry.js'
import { decodeFrame, encodeFrame, MessageType } from '@implus/client/wire'
import { errorFrame } from '../messages/refusals.js'
import { Status } from '../errors.js'

class UdpConnection extends Connection {
  address: string
  port: number

  constructor (
    id: number,
    private readonly socket: Socket,
    from: RemoteInfo,
    readonly tokenKey: string,
    private readonly loginBytes: number,
    private readonly onEnd: (conn: UdpConnection) => void
  ) {
    super(id)
    this.address = from.address
    this.port = from.port
  }

  protected write (frames: Uint8Array[]): void {
    for (let i = 0; i < frames.length; i++) {
      // Still NEW when writing means the login was refused: the sender's address is unproven.
      const frame = this.state === ConnState.NEW ? unprovenReply(frames[i]!, this.loginBytes) : frames[i]!
      if (frame !== null) this.socket.send(frame, this.port, this.address)
    }
  }

  /** A UDP session has nothing to close but itself. */
  protected shutdown (): void {
    this.onEnd(this)
  }

  protected destroy (): void {}
}

/**
 * A reply to a datagram from an unproven sender (no session, or a refused login) is never larger than
 * that datagram, so a spoofed source address cannot use the server as a traffic amplifier: the whole
 * reply if it fits, else its type and errorCode alone, else nothing.
 */
function unprovenReply (frame: Uint8Array, requestBytes: number, header?: { type: number, errorCode: number }): Uint8Array | null {
  if (frame.length <= requestBytes) return frame
  const { type, errorCode } = header ?? decodeFrame(frame)
  const bare = encodeFrame({ type, errorCode })
  return bare.length <= requestBytes ? bare : null
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
  const refuse = (to: RemoteInfo, requestBytes: number, errorCode: number, content: string): void => {
    const header = { type: MessageType.ERROR, errorCode }
    const frame = unprovenReply(errorFrame(errorCode, content), requestBytes, header)
    if (frame !== null) socket.send(frame, to.port, to.address)
  }

  socket.on('message', (bytes, from) => {
    if (!peekFrame(bytes, peek)) return refuse(from, bytes.length, Status.BAD_REQUEST, 'malformed frame')
    let conn = peek.token === '' ? undefined : sessions.get(peek.token)
    if (conn === undefined) {
      if (peek.type !== MessageType.LOGIN || peek.token === '') {
        return refuse(from, bytes.length, Status.UNAUTHORIZED, 'not logged in: every datagram carries the token of a logged-in session')
      }
      conn = new UdpConnection(registry.newId(), socket, from, peek.token, bytes.length, drop)
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
