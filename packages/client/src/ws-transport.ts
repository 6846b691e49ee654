// WebSocket transport: one binary message = one ChatMessage. Runs in browsers (global WebSocket) and in
// Node (the `ws` package, loaded only when no global exists, so bundles for the web never pull it in).
import { TransportOpenError, type CloseInfo, type Transport, type TransportEvents, type TransportOptions } from './transport.js'

/** The subset of the WHATWG WebSocket that both browsers and `ws` provide. */
interface WebSocketLike {
  binaryType: string
  send(data: Uint8Array | string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: { message?: string }) => void) | null
}

type WebSocketConstructor = new (url: string) => WebSocketLike

async function webSocketConstructor (): Promise<{ Ctor: WebSocketConstructor; native: boolean }> {
  const native = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (native !== undefined) return { Ctor: native, native: true }
  const ws = await import('ws')
  return { Ctor: ws.default as unknown as WebSocketConstructor, native: false }
}

export function webSocketUrl (opts: TransportOptions): string {
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host
  const url = new URL(`${opts.tls === true ? 'wss' : 'ws'}://${host}:${opts.port}${opts.path ?? '/websocket'}`)
  if (opts.token !== undefined) url.searchParams.set('token', opts.token)
  return url.href
}

class WsTransport implements Transport {
  onFrame: TransportEvents['onFrame']
  onClose: TransportEvents['onClose']
  private readonly socket: WebSocketLike

  constructor (socket: WebSocketLike, events: TransportEvents) {
    this.socket = socket
    this.onFrame = events.onFrame
    this.onClose = events.onClose
  }

  send (bytes: Uint8Array): void {
    this.socket.send(bytes)
  }

  sendUnframed (bytes: Uint8Array): void {
    this.socket.send(bytes)
  }

  sendText (text: string): void {
    this.socket.send(text)
  }

  close (): void {
    this.socket.close()
  }
}

/** Resolves once the upgrade succeeds; a refused upgrade rejects with TransportOpenError (with `status` under `ws`). */
export async function openWsTransport (opts: TransportOptions, events: TransportEvents): Promise<Transport> {
  const { Ctor, native } = await webSocketConstructor()
  const socket = new Ctor(webSocketUrl(opts))
  // `ws` hands over Node Buffers (already Uint8Array) by default; browsers would give Blobs.
  if (native) socket.binaryType = 'arraybuffer'
  const transport = new WsTransport(socket, events)

  // Installed before the handshake completes: a token login makes the server's 1001 the very first message.
  socket.onmessage = (event) => {
    const data = event.data
    if (data instanceof Uint8Array) transport.onFrame(data)
    else if (data instanceof ArrayBuffer) transport.onFrame(new Uint8Array(data))
  }

  return new Promise<Transport>((resolve, reject) => {
    let opened = false
    let failure = 'WebSocket connection failed'
    socket.onerror = (event) => {
      if (typeof event.message === 'string') failure = event.message
    }
    socket.onopen = () => {
      opened = true
      resolve(transport)
    }
    socket.onclose = (event) => {
      if (!opened) {
        const status = /Unexpected server response: (\d+)/.exec(failure)
        reject(new TransportOpenError(failure, status === null ? undefined : Number(status[1])))
        return
      }
      const info: CloseInfo = { code: event.code, reason: event.reason }
      transport.onClose(info)
    }
  })
}
