import { endResponse, uws, type ListenSocket, type WebSocket } from './uws.js'
import { uwsApp, type TlsMaterial } from './tls.js'
import { Connection, ConnState, clockTicks } from './connection.js'
import type { Gateway } from './gateway.js'
import type { SessionRegistry } from './registry.js'
import { AppError, Status, reasonPhrase } from '../errors.js'

interface WsData {
  conn: WsConnection | null
  /** Set when the handshake carried a valid ?token=. */
  userId: string
}

class WsConnection extends Connection {
  constructor (id: number, private readonly ws: WebSocket<WsData>, private readonly maxBuffered: number) {
    super(id)
  }

  protected write (frames: Uint8Array[]): void {
    const ws = this.ws
    ws.cork(() => {
      for (let i = 0; i < frames.length; i++) ws.send(frames[i]!, true)
    })
    if (ws.getBufferedAmount() > this.maxBuffered) {
      this.state = ConnState.CLOSED
      ws.end(1008, 'slow reader: outgoing buffer over the limit')
    }
  }

  protected shutdown (): void {
    this.ws.end(1000, 'bye')
  }

  protected destroy (): void {
    this.ws.close()
  }
}

export interface WsServerOptions {
  readonly host: string
  readonly port: number
  readonly maxFrameBytes: number
  readonly maxBufferedBytes: number
  readonly authenticate: (token: string) => Promise<string>
  /** WSS when set. */
  readonly tls: TlsMaterial | null
}

/**
 * WebSocket transport on uWS: `/websocket`, one binary frame per ChatMessage.
 * A `?token=` in the handshake is checked before the upgrade (401 without it).
 */
export function startWsServer (gateway: Gateway, registry: SessionRegistry, options: WsServerOptions): Promise<{ socket: ListenSocket, port: number }> {
  const app = uwsApp(options.tls)
  app.ws<WsData>('/websocket', {
    // uWS drops a frame over maxPayloadLength without a close frame; we want close code 1009, so uWS takes
    // frames up to 1 MiB (or 16 × the limit) and our handler closes with 1009. Beyond that, uWS's drop.
    maxPayloadLength: Math.max(options.maxFrameBytes * 16, 1024 * 1024),
    maxBackpressure: options.maxBufferedBytes,
    closeOnBackpressureLimit: 1,
    idleTimeout: 0,
    sendPingsAutomatically: false,
    upgrade: (res, req, context) => {
      const token = new URLSearchParams(req.getQuery() ?? '').get('token')
      const key = req.getHeader('sec-websocket-key')
      const protocol = req.getHeader('sec-websocket-protocol')
      const extensions = req.getHeader('sec-websocket-extensions')
      if (!gateway.isAccepting) {
        res.writeStatus(`${Status.UNAVAILABLE} ${reasonPhrase(Status.UNAVAILABLE)}`).end('server shutting down')
        return
      }
      if (token === null || token === '') {
        res.upgrade<WsData>({ conn: null, userId: '' }, key, protocol, extensions, context)
        return
      }
      const state = { aborted: false }
      res.onAborted(() => { state.aborted = true })
      options.authenticate(token).then(userId => {
        if (state.aborted) return
        res.cork(() => res.upgrade<WsData>({ conn: null, userId }, key, protocol, extensions, context))
      }, (err: unknown) => {
        if (state.aborted) return
        const status = err instanceof AppError ? err.status : Status.INTERNAL
        res.cork(() => res.writeStatus(`${status} ${reasonPhrase(status)}`).end((err as Error).message))
      })
    },
    open: ws => {
      const data = ws.getUserData()
      const conn = new WsConnection(registry.newId(), ws, options.maxBufferedBytes)
      data.conn = conn
      gateway.opened(conn)
      if (data.userId !== '') gateway.loginVerified(conn, data.userId, '')
    },
    message: (ws, message, isBinary) => {
      const conn = ws.getUserData().conn!
      if (!isBinary) {
        conn.lastSeen = clockTicks()
        return gateway.error(conn, Status.BAD_REQUEST, 'text frames are not accepted: send binary protobuf frames')
      }
      if (message.byteLength > options.maxFrameBytes) {
        conn.state = ConnState.CLOSED
        return ws.end(1009, `frame over ${options.maxFrameBytes} bytes`)
      }
      gateway.frame(conn, new Uint8Array(message))
    },
    close: ws => {
      const conn = ws.getUserData().conn
      if (conn !== null) gateway.closed(conn)
    }
  })
  // Anything else on this port (a browser pointed at the URL, a probe, a mistyped path) is told what the
  // port is for, instead of a connection left hanging until the client gives up.
  app.any('/*', (res, req) => {
    const upgradeHere = req.getUrl() === '/websocket'
    res.writeStatus(upgradeHere ? '426 Upgrade Required' : `${Status.NOT_FOUND} ${reasonPhrase(Status.NOT_FOUND)}`)
    if (upgradeHere) res.writeHeader('upgrade', 'websocket').writeHeader('connection', 'upgrade')
    res.writeHeader('content-type', 'text/plain; charset=utf-8')
    endResponse(res, 'this port takes WebSocket connections (binary protobuf frames) at /websocket; see docs/protocol.md\n', req.getMethod() === 'head')
  })
  return new Promise((resolve, reject) => {
    app.listen(options.host, options.port, socket => {
      if (socket === false) reject(new Error(`WebSocket cannot listen on ${options.host}:${options.port}`))
      else resolve({ socket, port: uws.us_socket_local_port(socket as never) })
    })
  })
}
