// What ImConnection needs from a socket: whole frames in, whole frames out, one close notification.

export interface CloseInfo {
  /** WebSocket close code; absent on TCP and UDP, which have none. */
  code?: number
  reason?: string
}

export type FrameHandler = (bytes: Uint8Array) => void
export type CloseHandler = (info: CloseInfo) => void

/** Handlers are installed before the socket opens, so no early frame can slip past them. */
export interface TransportEvents {
  onFrame: FrameHandler
  onClose: CloseHandler
}

export interface Transport extends TransportEvents {
  /** Sends one ChatMessage in the transport's framing. */
  send(bytes: Uint8Array): void
  /**
   * Bytes exactly as given, bypassing the framing (TCP: raw stream bytes; UDP: no token stamped).
   * @internal For ImConnection.sendRaw, a test hook.
   */
  sendUnframed?(bytes: Uint8Array): void
  /** A WebSocket text frame, which the protocol forbids: for tests of the server's refusal. */
  sendText?(text: string): void
  /** UDP stamps the session token on every datagram; a login may supply it after opening. */
  setToken?(token: string): void
  /** Idempotent; onClose fires once, whoever closed. */
  close(): void
}

export interface TransportOptions {
  host: string
  port: number
  /** wss:// for WebSocket, TLS for TCP (the server's certificate is checked against the system's CAs). */
  tls?: boolean
  /** WebSocket: the path (and query) of the endpoint, default `/websocket`. */
  path?: string
  /** WebSocket: sent as `?token=` in the handshake. UDP: stamped on every datagram. TCP: unused. */
  token?: string
}

/** Opening failed before any frame could flow, e.g. a WebSocket handshake refused with HTTP 401. */
export class TransportOpenError extends Error {
  /** The HTTP status of a refused WebSocket upgrade, when known. */
  readonly status: number | undefined

  constructor (message: string, status?: number) {
    super(message)
    this.name = 'TransportOpenError'
    this.status = status
  }
}
