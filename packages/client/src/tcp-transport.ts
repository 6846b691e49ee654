// TCP transport: 4-byte big-endian length prefix per frame (wire/length-prefix.ts), plain or over TLS.
import { connect, isIP, type Socket } from 'node:net'
import { connect as connectTls } from 'node:tls'
import { LengthPrefixDecoder, encodeLengthPrefixed } from './wire/length-prefix.js'
import { TransportOpenError, type Transport, type TransportEvents, type TransportOptions } from './transport.js'

/** docs/protocol.md's frame limit; the server never sends more. */
const DEFAULT_MAX_FRAME_BYTES = 64 * 1024

export interface TcpTransportOptions extends TransportOptions {
  maxFrameBytes?: number
}

class TcpTransport implements Transport {
  onFrame: TransportEvents['onFrame']
  onClose: TransportEvents['onClose']
  private readonly socket: Socket

  constructor (socket: Socket, events: TransportEvents) {
    this.socket = socket
    this.onFrame = events.onFrame
    this.onClose = events.onClose
  }

  send (bytes: Uint8Array): void {
    this.socket.write(encodeLengthPrefixed(bytes))
  }

  sendUnframed (bytes: Uint8Array): void {
    this.socket.write(bytes)
  }

  close (): void {
    // end() first so frames written just before (a LOGOUT, say) still leave.
    this.socket.end(() => this.socket.destroy())
  }
}

export function openTcpTransport (opts: TcpTransportOptions, events: TransportEvents): Promise<Transport> {
  const decoder = new LengthPrefixDecoder(opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES)
  const socket = opts.tls === true
    // SNI carries a host name only, never an address.
    ? connectTls({ host: opts.host, port: opts.port, servername: isIP(opts.host) === 0 ? opts.host : undefined }).setNoDelay(true)
    : connect({ host: opts.host, port: opts.port, noDelay: true })
  const transport = new TcpTransport(socket, events)
  const deliver = (frame: Buffer): void => transport.onFrame(frame)
  let closeReason = ''

  socket.on('data', (chunk: Buffer) => {
    if (decoder.push(chunk, deliver) === 'too-large') {
      closeReason = 'frame too large'
      socket.destroy()
    }
  })

  return new Promise<Transport>((resolve, reject) => {
    let opened = false
    socket.once(opts.tls === true ? 'secureConnect' : 'connect', () => {
      opened = true
      resolve(transport)
    })
    socket.on('error', (err) => {
      if (!opened) reject(new TransportOpenError(err.message))
      else closeReason ||= err.message
    })
    socket.once('close', () => {
      if (opened) transport.onClose(closeReason === '' ? {} : { reason: closeReason })
    })
  })
}
