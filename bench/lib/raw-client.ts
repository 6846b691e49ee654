// Minimal socket clients for connection benchmarks: ImConnection and ws cannot bind a source address
// and cost kilobytes each, so these speak the wire directly (docs/protocol.md "Transports"): TCP frames with
// a 4-byte big-endian length, or a WebSocket (RFC 6455) handshake and binary frames over net, with
// `localAddress` so one load process can spread its sockets over 127.0.0.x.
import { connect, type Socket } from 'node:net'
import { encodeFrame, MessageType } from '@implus/client'

export type RawTransport = 'ws' | 'tcp'

export interface RawOpenOptions {
  readonly transport: RawTransport
  readonly host: string
  readonly port: number
  readonly localAddress?: string
  /** WebSocket only: `?token=…` on the handshake logs in at once (the server sends 1001 first). */
  readonly token?: string
}

/** The frame type (field 1), read without decoding: protobufjs writes fields in number order. */
export function frameType (bytes: Uint8Array): number {
  if (bytes.length < 2 || bytes[0] !== 0x08) return 0
  let value = 0
  for (let i = 1, shift = 0; i < bytes.length && i < 6; i++, shift += 7) {
    value |= (bytes[i]! & 0x7f) << shift
    if ((bytes[i]! & 0x80) === 0) return value
  }
  return 0
}

/** A payload framed for the transport, ready to write (build it once, write it many times). */
export function framed (transport: RawTransport, payload: Uint8Array): Buffer {
  if (transport === 'tcp') {
    const out = Buffer.allocUnsafe(4 + payload.length)
    out.writeUInt32BE(payload.length, 0)
    out.set(payload, 4)
    return out
  }
  // Client frames must be masked; an all-zero key leaves the payload as is.
  const header = payload.length < 126 ? 2 : payload.length < 65536 ? 4 : 10
  const out = Buffer.alloc(header + 4 + payload.length)
  out[0] = 0x82
  if (header === 2) out[1] = 0x80 | payload.length
  else if (header === 4) { out[1] = 0x80 | 126; out.writeUInt16BE(payload.length, 2) } else { out[1] = 0x80 | 127; out.writeBigUInt64BE(BigInt(payload.length), 2) }
  out.set(payload, header + 4)
  return out
}

export function loginFrame (transport: RawTransport, userId: string, token: string): Buffer {
  return framed(transport, encodeFrame({ type: MessageType.LOGIN, fromId: userId, token }))
}

const HANDSHAKE_END = Buffer.from('\r\n\r\n')
const WS_KEY = 'YmVuY2gtaW1wbHVzLWtleQ=='

export class RawConn {
  /** Called with each whole server frame (the protobuf bytes) and its type. */
  onFrame: (type: number, payload: Buffer) => void = () => {}
  onClose: () => void = () => {}
  private pending: Buffer | null = null
  private upgraded: boolean

  private constructor (readonly socket: Socket, readonly transport: RawTransport) {
    this.upgraded = transport === 'tcp'
    socket.setNoDelay(true)
    socket.on('data', chunk => this.data(chunk))
    socket.on('error', () => {})
    socket.on('close', () => this.onClose())
  }

  /** Resolves once the socket can carry frames: connected (TCP) or upgraded (WebSocket). */
  static open (opts: RawOpenOptions): Promise<RawConn> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: opts.host, port: opts.port, localAddress: opts.localAddress })
      const conn = new RawConn(socket, opts.transport)
      const fail = (err: Error): void => reject(err)
      socket.once('error', fail)
      socket.once('close', () => reject(new Error('closed before it opened')))
      socket.once('connect', () => {
        if (opts.transport === 'tcp') {
          socket.removeListener('error', fail)
          return resolve(conn)
        }
        conn.upgradedCallback = () => {
          socket.removeListener('error', fail)
          resolve(conn)
        }
        const query = opts.token === undefined ? '' : `?token=${encodeURIComponent(opts.token)}`
        socket.write(`GET /websocket${query} HTTP/1.1\r\nHost: ${opts.host}:${opts.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`)
      })
    })
  }

  private upgradedCallback: () => void = () => {}

  write (frame: Buffer): void {
    this.socket.write(frame)
  }

  destroy (): void {
    this.socket.destroy()
  }

  private data (chunk: Buffer): void {
    let buf = this.pending === null ? chunk : Buffer.concat([this.pending, chunk])
    this.pending = null
    if (!this.upgraded) {
      const end = buf.indexOf(HANDSHAKE_END)
      if (end < 0) { this.pending = buf; return }
      if (!buf.subarray(0, 16).toString('latin1').startsWith('HTTP/1.1 101')) {
        this.socket.destroy(new Error(`handshake refused: ${buf.subarray(0, buf.indexOf('\r\n')).toString('latin1')}`))
        return
      }
      this.upgraded = true
      this.upgradedCallback()
      buf = buf.subarray(end + 4)
    }
    let at = 0
    if (this.transport === 'tcp') {
      while (buf.length - at >= 4) {
        const length = buf.readUInt32BE(at)
        if (buf.length - at - 4 < length) break
        const payload = buf.subarray(at + 4, at + 4 + length)
        at += 4 + length
        this.onFrame(frameType(payload), payload)
      }
    } else {
      while (buf.length - at >= 2) {
        const opcode = buf[at]! & 0x0f
        let length = buf[at + 1]! & 0x7f
        let header = 2
        if (length === 126) {
          if (buf.length - at < 4) break
          length = buf.readUInt16BE(at + 2)
          header = 4
        } else if (length === 127) {
          if (buf.length - at < 10) break
          length = Number(buf.readBigUInt64BE(at + 2))
          header = 10
        }
        if (buf.length - at - header < length) break
        const payload = buf.subarray(at + header, at + header + length)
        at += header + length
        if (opcode === 2) this.onFrame(frameType(payload), payload)
        else if (opcode === 8) { this.socket.destroy(); return } else if (opcode === 9) {
          const pong = Buffer.alloc(6 + payload.length)
          pong[0] = 0x8a
          pong[1] = 0x80 | payload.length
          pong.set(payload, 6)
          this.socket.write(pong)
        }
      }
    }
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at))
  }
}

/** The i-th source address of a spread: 127.0.0.2, 127.0.0.3, … (127.0.0.1 is left to the server's own traffic). */
export function sourceAddress (i: number, count: number): string {
  return `127.0.0.${2 + (i % count)}`
}
