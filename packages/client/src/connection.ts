// One client connection over any transport: frames in order, awaitable one at a time.
// No node: imports here: browsers load this file; TCP and UDP transports are imported on demand.
import { MessageType, decodeFrame, encodeFrame, type DecodedFrame, type Frame } from './wire/codec.js'
import type { CloseInfo, Transport, TransportEvents, TransportOptions } from './transport.js'
import { openWsTransport } from './ws-transport.js'
import { parseEndpoint, type Endpoint, type TransportKind } from './endpoint.js'

export type { TransportKind } from './endpoint.js'

/** Where to connect: `url` (ws://, wss://, tcp://, tls://, udp://), or `transport`, `host` and `port`. */
export interface OpenOptions {
  url?: string
  transport?: TransportKind
  host?: string
  port?: number
  /** UDP: stamped on every datagram (login() may supply it later). WebSocket: see tokenInHandshake. */
  token?: string
  /** WebSocket only: send `token` as `?token=` so the server logs in at once and sends 1001 first. */
  tokenInHandshake?: boolean
  /**
   * Keep every received frame in `frames` and queue unclaimed ones for next() (default true).
   * Benchmarks turn it off and use onFrame(), so memory stays flat.
   */
  record?: boolean
}

export type FramePredicate = (frame: DecodedFrame) => boolean

interface Waiter {
  predicate: FramePredicate | undefined
  resolve: (frame: DecodedFrame) => void
  reject: (err: Error) => void
  timer: ReturnType<typeof setTimeout>
}

const DEFAULT_TIMEOUT_MS = 5000

/** The endpoint `opts` names; throws a TypeError when it names none, or two that disagree. */
export function endpointOf (opts: Pick<OpenOptions, 'url' | 'transport' | 'host' | 'port'>): Endpoint {
  if (opts.url !== undefined) {
    const endpoint = parseEndpoint(opts.url)
    if (opts.transport !== undefined && opts.transport !== endpoint.transport) throw new TypeError(`transport '${opts.transport}' does not match the URL ${opts.url}`)
    return endpoint
  }
  if (opts.transport !== 'ws' && opts.transport !== 'tcp' && opts.transport !== 'udp') throw new TypeError(`transport must be 'ws', 'tcp' or 'udp', got ${String(opts.transport)}`)
  if (typeof opts.host !== 'string' || opts.host === '') throw new TypeError('host must be a non-empty string (or give a url)')
  if (!Number.isInteger(opts.port) || opts.port! < 1 || opts.port! > 65535) throw new RangeError(`port must be a port number, got ${String(opts.port)}`)
  return { transport: opts.transport, host: opts.host, port: opts.port!, tls: false, path: '/websocket' }
}

async function openTransport (opts: OpenOptions, events: TransportEvents): Promise<Transport> {
  const endpoint = endpointOf(opts)
  const transportOpts: TransportOptions = { host: endpoint.host, port: endpoint.port, tls: endpoint.tls, path: endpoint.path }
  switch (endpoint.transport) {
    case 'ws':
      if (opts.tokenInHandshake === true && opts.token !== undefined) transportOpts.token = opts.token
      return openWsTransport(transportOpts, events)
    case 'tcp':
      return (await import('./tcp-transport.js')).openTcpTransport(transportOpts, events)
    case 'udp':
      if (opts.token !== undefined) transportOpts.token = opts.token
      return (await import('./udp-transport.js')).openUdpTransport(transportOpts, events)
  }
}

export class ImConnection {
  /** Every frame received, in arrival order (empty when `record` is off). */
  readonly frames: DecodedFrame[] = []
  /** Frames from the server that failed to decode; the connection carries on. */
  malformedFrames = 0
  /** Resolves when the connection closes, from either side. */
  readonly closed: Promise<CloseInfo>

  private readonly record: boolean
  /** Received frames no next() has claimed yet. */
  private readonly unclaimed: DecodedFrame[] = []
  private readonly waiters: Waiter[] = []
  private readonly listeners = new Set<(frame: DecodedFrame) => void>()
  private transport: Transport | null = null
  private closeInfo: CloseInfo | null = null
  private resolveClosed!: (info: CloseInfo) => void

  private constructor (record: boolean) {
    this.record = record
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve
    })
  }

  static async open (opts: OpenOptions): Promise<ImConnection> {
    const conn = new ImConnection(opts.record ?? true)
    conn.transport = await openTransport(opts, {
      onFrame: (bytes) => conn.receive(bytes),
      onClose: (info) => conn.finish(info),
    })
    return conn
  }

  /** Sends 2001 and waits for the 1001, whatever its errorCode. */
  login (userId: string, token: string, deviceId?: string, timeoutMs?: number): Promise<DecodedFrame> {
    this.requireTransport().setToken?.(token)
    const frame: Frame = { type: MessageType.LOGIN, fromId: userId, token }
    if (deviceId !== undefined) frame.deviceId = deviceId
    this.send(frame)
    return this.next((f) => f.type === MessageType.LOGIN_RESPONSE, timeoutMs)
  }

  heartbeat (): Promise<DecodedFrame> {
    this.send({ type: MessageType.HEARTBEAT })
    return this.next((f) => f.type === MessageType.HEARTBEAT_RESPONSE)
  }

  send (frame: Frame): void {
    this.requireTransport().send(encodeFrame(frame))
  }

  /**
   * Arbitrary bytes as one frame (length-prefixed on TCP, token-stamped on UDP), or with `unframed`
   * exactly as given on the wire: for tests of the server's handling of junk.
   * @internal A test hook, left out of the published typings (stripInternal).
   */
  sendRaw (bytes: Uint8Array, opts: { unframed?: boolean } = {}): void {
    const transport = this.requireTransport()
    if (opts.unframed !== true) transport.send(bytes)
    else if (transport.sendUnframed !== undefined) transport.sendUnframed(bytes)
    else throw new TypeError('this transport cannot send unframed bytes')
  }

  /** A WebSocket text frame, which the server must refuse with 1009 (400). */
  sendText (text: string): void {
    const transport = this.requireTransport()
    if (transport.sendText === undefined) throw new TypeError('only WebSocket has text frames')
    transport.sendText(text)
  }

  /**
   * The first frame matching `predicate` (any frame if none), counting frames already received and not
   * yet claimed; the frame is claimed, so the next call sees the one after. Rejects on timeout or close.
   */
  next (predicate?: FramePredicate, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<DecodedFrame> {
    const index = predicate === undefined ? (this.unclaimed.length > 0 ? 0 : -1) : this.unclaimed.findIndex(predicate)
    if (index >= 0) return Promise.resolve(this.unclaimed.splice(index, 1)[0])
    if (this.closeInfo !== null) return Promise.reject(new Error('connection closed'))
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          reject(new Error(`no matching frame within ${timeoutMs} ms`))
        }, timeoutMs),
      }
      this.waiters.push(waiter)
    })
  }

  /** Calls `listener` with every frame as it arrives, besides next(); returns the unsubscribe function. */
  onFrame (listener: (frame: DecodedFrame) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  close (): void {
    this.transport?.close()
  }

  private requireTransport (): Transport {
    if (this.transport === null) throw new Error('connection not open')
    return this.transport
  }

  private receive (bytes: Uint8Array): void {
    let frame: DecodedFrame
    try {
      frame = decodeFrame(bytes)
    } catch {
      this.malformedFrames++
      return
    }
    if (this.record) this.frames.push(frame)
    for (const listener of this.listeners) listener(frame)
    for (let i = 0; i < this.waiters.length; i++) {
      const waiter = this.waiters[i]
      if (waiter.predicate === undefined || waiter.predicate(frame)) {
        this.waiters.splice(i, 1)
        clearTimeout(waiter.timer)
        waiter.resolve(frame)
        return
      }
    }
    if (this.record) this.unclaimed.push(frame)
  }

  private finish (info: CloseInfo): void {
    if (this.closeInfo !== null) return
    this.closeInfo = info
    for (const waiter of this.waiters.splice(0)) {
      clearTimeout(waiter.timer)
      waiter.reject(new Error('connection closed'))
    }
    this.resolveClosed(info)
  }
}
