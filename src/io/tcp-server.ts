import { createServer, type Server, type Socket } from 'node:net'
import { createServer as createTlsServer, type TlsOptions } from 'node:tls'
import { Connection, ConnState } from './connection.js'
import { LengthPrefixDecoder } from '@implus/client/wire'
import { errorFrame } from '../messages/refusals.js'
import type { Gateway } from './gateway.js'
import type { SessionRegistry } from './registry.js'
import { Status } from '../errors.js'

class TcpConnection extends Connection {
  constructor (id: number, private readonly socket: Socket, private readonly maxBuffered: number) {
    super(id)
  }

  protected write (frames: Uint8Array[]): void {
    let size = 0
    for (let i = 0; i < frames.length; i++) size += 4 + frames[i]!.length
    // One buffer and one write per socket per turn: a syscall per frame would cost more than the copy.
    const out = Buffer.allocUnsafe(size)
    let at = 0
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!
      out.writeUInt32BE(frame.length, at)
      out.set(frame, at + 4)
      at += 4 + frame.length
    }
    this.socket.write(out)
    if (this.socket.writableLength > this.maxBuffered) {
      this.state = ConnState.CLOSED
      this.socket.destroy()
    }
  }

  protected shutdown (): void {
    this.socket.end()
  }

  protected destroy (): void {
    this.socket.destroy()
  }
}

export interface TcpServerOptions {
  readonly host: string
  readonly port: number
  readonly maxFrameBytes: number
  readonly maxBufferedBytes: number
  /** TLS on this port when set (PEM certificate and key, see io/tls.ts). */
  readonly tls: TlsOptions | null
}

/** A client that connects but never finishes its TLS handshake is dropped after this long. */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000

/** TCP transport: 4-byte big-endian length prefix, then the protobuf bytes; plain or inside TLS. */
export function startTcpServer (gateway: Gateway, registry: SessionRegistry, options: TcpServerOptions): Promise<{ server: Server, port: number }> {
  const accept = (socket: Socket): void => {
    if (!gateway.isAccepting) return void socket.destroy()
    const conn = new TcpConnection(registry.newId(), socket, options.maxBufferedBytes)
    const decoder = new LengthPrefixDecoder(options.maxFrameBytes)
    const onFrame = (frame: Buffer): void => gateway.frame(conn, frame)
    gateway.opened(conn)
    socket.on('data', chunk => {
      if (decoder.push(chunk, onFrame) === 'too-large') {
        conn.send(errorFrame(Status.TOO_LARGE, `frame over ${options.maxFrameBytes} bytes`))
        conn.end()
      }
    })
    socket.on('error', () => socket.destroy())
    socket.on('close', () => gateway.closed(conn))
  }
  // With TLS, a connection becomes a client once its handshake is done; failed handshakes just close.
  const server = options.tls === null
    ? createServer({ noDelay: true }, accept)
    : createTlsServer({ ...options.tls, handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, socket => {
      socket.setNoDelay(true)
      accept(socket)
    })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      const address = server.address()
      resolve({ server, port: typeof address === 'object' && address !== null ? address.port : options.port })
    })
  })
}
