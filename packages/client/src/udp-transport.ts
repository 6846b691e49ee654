// UDP transport: one datagram = one ChatMessage; every datagram carries the session token (docs/protocol.md).
import { createSocket, type Socket } from 'node:dgram'
import { isIPv6 } from 'node:net'
import { TransportOpenError, type Transport, type TransportEvents, type TransportOptions } from './transport.js'

const TOKEN_TAG = (9 << 3) | 2 // field 9 (token), length-delimited

/**
 * A token field to append to an encoded frame. Appending is enough: protobuf decoders keep the last
 * occurrence of a field, so this overrides whatever token the frame carried, without re-encoding it.
 */
function tokenField (token: string): Buffer {
  const value = Buffer.from(token, 'utf8')
  const header: number[] = [TOKEN_TAG]
  for (let n = value.length; ; n >>>= 7) {
    if (n < 0x80) {
      header.push(n)
      break
    }
    header.push((n & 0x7f) | 0x80)
  }
  return Buffer.concat([Buffer.from(header), value])
}

class UdpTransport implements Transport {
  onFrame: TransportEvents['onFrame']
  onClose: TransportEvents['onClose']
  private readonly socket: Socket
  private suffix: Buffer | null

  constructor (socket: Socket, events: TransportEvents, token: string | undefined) {
    this.socket = socket
    this.onFrame = events.onFrame
    this.onClose = events.onClose
    this.suffix = token === undefined ? null : tokenField(token)
  }

  setToken (token: string): void {
    this.suffix = tokenField(token)
  }

  send (bytes: Uint8Array): void {
    this.socket.send(this.suffix === null ? bytes : [bytes, this.suffix])
  }

  sendUnframed (bytes: Uint8Array): void {
    this.socket.send(bytes)
  }

  close (): void {
    try {
      this.socket.close()
    } catch {
      // Already closed: close() is idempotent by contract.
    }
  }
}

/** "Opening" connects the socket to the server's address so only its datagrams come back. */
export function openUdpTransport (opts: TransportOptions, events: TransportEvents): Promise<Transport> {
  const socket = createSocket(isIPv6(opts.host) ? 'udp6' : 'udp4')
  const transport = new UdpTransport(socket, events, opts.token)
  let closeReason = ''

  socket.on('message', (datagram: Buffer) => transport.onFrame(datagram))

  return new Promise<Transport>((resolve, reject) => {
    let opened = false
    socket.on('error', (err) => {
      if (!opened) {
        reject(new TransportOpenError(err.message))
        socket.close()
        return
      }
      // e.g. ECONNREFUSED from an ICMP port-unreachable: nobody is listening any more.
      closeReason ||= err.message
      transport.close()
    })
    socket.once('close', () => {
      if (opened) transport.onClose(closeReason === '' ? {} : { reason: closeReason })
    })
    socket.connect(opts.port, opts.host, () => {
      opened = true
      resolve(transport)
    })
  })
}
