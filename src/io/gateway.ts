import { ConnState, TICKS_PER_SECOND, clockTicks, msToTicks, type Connection } from './connection.js'
import type { SessionRegistry } from './registry.js'
import { newFramePeek, peekFrame } from './frame-peek.js'
import { decodeFrame, encodeFrame, MessageType, type DecodedFrame, isMsgId } from '@implus/client/wire'
import { AppError, Status } from '../errors.js'
import { deliveryFailed, errorFrame, kickout } from '../messages/refusals.js'
import { chatConversation, isRefusal, parseGroupAcks, parseMsgIds, readReceiptRefusal } from '../shards/frame-check.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics.js'

/** What the gateway needs from the shard pool, which owns routing. */
export interface ShardRouting {
  /** The shard that owns a conversation. */
  shardOfConversation (conversationId: string): number
  /** The shard that stored a message (its id carries it). */
  shardOfMessage (msgId: string): number
  route (shard: number, connId: number, userId: string, frame: Uint8Array): void
  presence (online: string[], offline: string[]): void
}

export interface GatewayDeps {
  readonly registry: SessionRegistry
  readonly shards: ShardRouting
  readonly authenticate: (token: string) => Promise<string>
  /** The user's latest committed userSeq, sent in 1001 so a client sees its gap at login. */
  readonly latestUserSeq: (userId: string) => Promise<number>
  readonly maxContentBytes: number
  /** Frames per second a connection may send, sustained (IMPLUS_RATE_LIMIT)... */
  readonly rateLimitPerSecond: number
  /** ...and at once after a quiet spell (IMPLUS_RATE_BURST): the token bucket's size. */
  readonly rateBurst: number
  readonly loginTimeoutMs: number
  readonly idleTimeoutMs: number
  readonly log: Logger
  readonly metrics: Metrics
  /** A user's device count on this host changed (cluster mode keeps the session registry from it). */
  readonly sessionChanged: (userId: string, devices: number) => void
  /** A client heartbeat (cluster mode refreshes the user's session TTL). */
  readonly heartbeat: (userId: string) => void
}

/** A frame costs this many token units (tenths of a frame: see allow). */
const TOKEN_UNITS = TICKS_PER_SECOND

/**
 * The protocol state machine every transport feeds: login, heartbeat,
 * logout, limits, and routing of chat frames to the shard that owns their
 * conversation. It reads only what routing needs (frame-peek); shards decode
 * the rest.
 */
export class Gateway {
  private readonly peek = newFramePeek()
  private readonly framesIn
  private readonly refused
  private readonly logins
  private accepting = true

  constructor (private readonly deps: GatewayDeps) {
    this.framesIn = deps.metrics.counter('implus_frames_in_total', 'Frames received from clients.')
    this.refused = deps.metrics.counter('implus_frames_refused_total', 'Frames answered with 1006 or 1009.')
    this.logins = deps.metrics.counter('implus_logins_total', 'Successful logins.')
    deps.metrics.collect(() => {
      connections.value = deps.registry.size
      users.value = deps.registry.users
    })
    const connections = deps.metrics.gauge('implus_connections', 'Open client connections on this host.')
    const users = deps.metrics.gauge('implus_online_users', 'Users with at least one connection on this host.')
    // Deadlines are checked once a second: a connection is closed at most a second after its deadline.
    setInterval(() => this.sweep(), 1000).unref()
  }

  /** Stops taking new connections (drain); existing ones keep working until closed. */
  stopAccepting (): void {
    this.accepting = false
  }

  get isAccepting (): boolean {
    return this.accepting
  }

  opened (conn: Connection): void {
    conn.rateTokens = this.deps.rateBurst * TOKEN_UNITS
    conn.rateRefilledAt = conn.connectedAt
    this.deps.registry.track(conn)
  }

  closed (conn: Connection): void {
    conn.state = ConnState.CLOSED
    conn.gone = true
    if (conn.userId === '') return void this.deps.registry.remove(conn)
    if (this.deps.registry.remove(conn)) this.deps.shards.presence([], [conn.userId])
    this.deps.sessionChanged(conn.userId, this.deps.registry.devices(conn.userId).length)
  }

  /** A frame from a client. `bytes` is only valid during this call. */
  frame (conn: Connection, bytes: Uint8Array, maxBytes = Infinity): void {
    // A closed connection's frames still in the socket's buffers are not the user's any more (a kick, a logout).
    if (conn.state === ConnState.CLOSED) return
    this.framesIn.value++
    const ticks = clockTicks()
    conn.lastSeen = ticks
    const peek = this.peek
    const wellFormed = peekFrame(bytes, peek)
    // Every frame pays, malformed ones too; past the limit a malformed frame is dropped without an answer.
    if (!this.allow(conn, ticks)) {
      if (!wellFormed) this.refused.value++
      else if (peek.type === MessageType.PRIVATE_CHAT || peek.type === MessageType.GROUP_CHAT) this.refuse(conn, peek.clientSeq, Status.RATE_LIMITED, 'rate limited')
      else this.error(conn, Status.RATE_LIMITED, 'rate limited')
      return
    }
    if (!wellFormed) return this.error(conn, Status.BAD_REQUEST, 'malformed frame')
    if (bytes.length > maxBytes) return this.refuse(conn, peek.clientSeq, Status.TOO_LARGE, `frame over ${maxBytes} bytes: use TCP or WebSocket`)
    const type = peek.type
    if (type === MessageType.LOGIN) return void this.login(conn, peek.token, peek.fromId, bytes)
    if (conn.userId === '') return this.error(conn, Status.UNAUTHORIZED, 'not logged in')
    switch (type) {
      case MessageType.HEARTBEAT:
        this.deps.heartbeat(conn.userId)
        return conn.send(encodeFrame({ type: MessageType.HEARTBEAT_RESPONSE, content: 'pong', timestamp: Date.now() }))
      case MessageType.LOGOUT:
        return this.close(conn, Status.UNAUTHORIZED, 'logged out')
      case MessageType.PRIVATE_CHAT:
      case MessageType.GROUP_CHAT:
        return this.routeChat(conn, type, bytes)
      case MessageType.MESSAGE_ACK:
      case MessageType.MESSAGE_RECALL:
        if (!isMsgId(peek.uid)) return this.error(conn, Status.BAD_REQUEST, 'uid must be a message id')
        return this.deps.shards.route(this.deps.shards.shardOfMessage(peek.uid), conn.id, conn.userId, bytes)
      case MessageType.BATCH_MESSAGE_ACK:
        return this.routeBatchAck(conn, bytes)
      case MessageType.GROUP_CONVERSATION_ACK:
        return this.routeGroupAck(conn, bytes)
      case MessageType.MESSAGE_READ_RECEIPT:
        return this.routeReadReceipt(conn, bytes)
      default:
        return this.error(conn, Status.BAD_REQUEST, `unknown message type ${type}`)
    }
  }

  /** Logs in a connection whose token was checked during the WebSocket handshake. */
  loginVerified (conn: Connection, userId: string, deviceId: string): void {
    void this.completeLogin(conn, userId, deviceId)
  }

  /**
   * Sends 1002 and closes. Its errorCode tells the client whether to come back (docs/protocol.md, 1002):
   * 503 the server is going away, 408 a deadline passed; 401 logged out or token revoked, 403 banned,
   * 409 signed in on too many devices are final.
   */
  close (conn: Connection, status: number, reason: string): void {
    if (conn.state === ConnState.CLOSED) return
    conn.send(kickout(status, reason))
    conn.end()
  }

  kickUser (userId: string, status: number, reason: string): void {
    for (const conn of [...this.deps.registry.devices(userId)]) this.close(conn, status, reason)
  }

  closeAll (status: number, reason: string): void {
    for (const conn of [...this.deps.registry.connections]) this.close(conn, status, reason)
  }

  private async login (conn: Connection, token: string, fromId: string, bytes: Uint8Array): Promise<void> {
    if (conn.state === ConnState.READY) {
      const userSeq = await this.deps.latestUserSeq(conn.userId).catch(() => 0)
      return conn.send(this.loginResponse(conn.userId, userSeq))
    }
    if (conn.state !== ConnState.NEW) return
    if (!this.accepting) return this.close(conn, Status.UNAVAILABLE, 'server shutting down')
    const deviceId = decodeDeviceId(bytes)
    conn.state = ConnState.LOGGING_IN
    let userId: string
    try {
      userId = await this.deps.authenticate(token)
      if (fromId !== '' && fromId !== userId) throw new AppError(Status.FORBIDDEN, 'fromId is not the token\'s user')
    } catch (err) {
      const status = err instanceof AppError ? err.status : Status.INTERNAL
      if (!(err instanceof AppError)) this.deps.log.error({ err }, 'login failed')
      conn.state = ConnState.NEW
      conn.send(encodeFrame({ type: MessageType.LOGIN_RESPONSE, errorCode: status, content: (err as Error).message, timestamp: Date.now() }))
      return conn.end()
    }
    await this.completeLogin(conn, userId, deviceId)
  }

  private async completeLogin (conn: Connection, userId: string, deviceId: string): Promise<void> {
    if (conn.state === ConnState.CLOSED) return
    conn.state = ConnState.LOGGING_IN
    conn.userId = userId
    conn.deviceId = deviceId
    conn.hold()
    const { evicted, cameOnline } = this.deps.registry.bind(conn)
    if (cameOnline) this.deps.shards.presence([userId], [])
    this.deps.sessionChanged(userId, this.deps.registry.devices(userId).length)
    if (evicted !== null) this.close(evicted, Status.CONFLICT, 'too many devices: signed in elsewhere')
    let userSeq = 0
    try {
      userSeq = await this.deps.latestUserSeq(userId)
    } catch (err) {
      this.deps.log.error({ err, userId }, 'cannot read latest userSeq at login')
    }
    if (conn.state === ConnState.CLOSED) return
    this.logins.value++
    conn.state = ConnState.READY
    conn.send(this.loginResponse(userId, userSeq))
    conn.release()
  }

  /** 1001 also tells the client its rate limit, so it paces what it sends (a reconnect's flush) below it. */
  private loginResponse (userId: string, userSeq: number): Uint8Array {
    return encodeFrame({ type: MessageType.LOGIN_RESPONSE, errorCode: 0, toId: userId, userSeq, rateLimit: this.deps.rateLimitPerSecond, rateBurst: this.deps.rateBurst, timestamp: Date.now() })
  }

  private routeChat (conn: Connection, type: number, bytes: Uint8Array): void {
    const peek = this.peek
    if (peek.fromId !== '' && peek.fromId !== conn.userId) return this.refuse(conn, peek.clientSeq, Status.FORBIDDEN, 'fromId is not the logged-in user')
    if (peek.contentBytes > this.deps.maxContentBytes) return this.refuse(conn, peek.clientSeq, Status.TOO_LARGE, `content over ${this.deps.maxContentBytes} bytes`)
    // The shard checks the rest (clientSeq, content) on the decoded frame, with the same rules.
    const conversationId = chatConversation(type, conn.userId, peek.toId, peek.conversationId)
    if (isRefusal(conversationId)) return this.refuse(conn, peek.clientSeq, conversationId.status, conversationId.reason)
    this.deps.shards.route(this.deps.shards.shardOfConversation(conversationId), conn.id, conn.userId, bytes)
  }

  /**
   * 2005 and 2006 may name items of several shards: each shard gets a frame of its own items only. Each
   * item costs a tenth of a frame beyond the first ten, so a full frame of 100 costs ten: acknowledging is
   * never cheaper per item than sending.
   */
  private routeBatchAck (conn: Connection, bytes: Uint8Array): void {
    const frame = this.decode(conn, bytes)
    if (frame === null) return
    const ids = parseMsgIds(frame.content)
    if (isRefusal(ids)) return this.error(conn, ids.status, ids.reason)
    if (!this.charge(conn, ids.length)) return this.error(conn, Status.RATE_LIMITED, 'rate limited')
    const byShard = new Map<number, string[]>()
    for (const id of ids) pushTo(byShard, this.deps.shards.shardOfMessage(id), id)
    for (const [shard, owned] of byShard) this.deps.shards.route(shard, conn.id, conn.userId, encodeFrame({ type: MessageType.BATCH_MESSAGE_ACK, content: owned.join(',') }))
  }

  private routeGroupAck (conn: Connection, bytes: Uint8Array): void {
    const frame = this.decode(conn, bytes)
    if (frame === null) return
    const acks = parseGroupAcks(frame.content)
    if (isRefusal(acks)) return this.error(conn, acks.status, acks.reason)
    if (!this.charge(conn, acks.length)) return this.error(conn, Status.RATE_LIMITED, 'rate limited')
    const byShard = new Map<number, string[]>()
    for (const { conversationId, seq } of acks) pushTo(byShard, this.deps.shards.shardOfConversation(conversationId), `${conversationId}:${seq}`)
    for (const [shard, owned] of byShard) this.deps.shards.route(shard, conn.id, conn.userId, encodeFrame({ type: MessageType.GROUP_CONVERSATION_ACK, content: owned.join(',') }))
  }

  private routeReadReceipt (conn: Connection, bytes: Uint8Array): void {
    const frame = this.decode(conn, bytes)
    if (frame === null) return
    const refusal = readReceiptRefusal(frame)
    if (refusal !== null) return this.error(conn, refusal.status, refusal.reason)
    this.deps.shards.route(this.deps.shards.shardOfConversation(frame.readReceipt!.conversationId), conn.id, conn.userId, bytes)
  }

  /**
   * The few frames the gateway must read whole. The peek checked the wire structure, but a known
   * field sent with the wrong wire type passes it and makes the decoder throw: answer 1009 instead.
   */
  private decode (conn: Connection, bytes: Uint8Array): DecodedFrame | null {
    try {
      return decodeFrame(bytes)
    } catch {
      this.error(conn, Status.BAD_REQUEST, 'malformed frame')
      return null
    }
  }

  /**
   * A token bucket per connection: it holds up to rateBurst frames and refills at rateLimitPerSecond, so a
   * client that reconnects may flush what it queued at once, up to the burst, and then keeps to the rate.
   * Counted in tenths of a frame per clock tick (100 ms): integers, which V8 keeps inside the object.
   */
  private allow (conn: Connection, ticks: number): boolean {
    const elapsed = ticks - conn.rateRefilledAt
    if (elapsed > 0) {
      // rate frames a second = rate × 10 units per 10 ticks = rate units a tick.
      conn.rateTokens = Math.min(this.deps.rateBurst * TOKEN_UNITS, conn.rateTokens + elapsed * this.deps.rateLimitPerSecond)
      conn.rateRefilledAt = ticks
    }
    if (conn.rateTokens < TOKEN_UNITS) return false
    conn.rateTokens -= TOKEN_UNITS
    return true
  }

  /** Takes the tokens of a frame of `items` items beyond the one allow() took; false (nothing taken) when they are not there. */
  private charge (conn: Connection, items: number): boolean {
    const extra = items - TOKEN_UNITS
    if (extra <= 0) return true
    if (conn.rateTokens < extra) return false
    conn.rateTokens -= extra
    return true
  }

  /** 1006 for a chat frame the server will not take. */
  private refuse (conn: Connection, clientSeq: string, status: number, reason: string): void {
    this.refused.value++
    conn.send(deliveryFailed({ clientSeq }, status, reason))
  }

  /** 1009 for a frame that makes no sense here. */
  error (conn: Connection, status: number, reason: string): void {
    this.refused.value++
    conn.send(errorFrame(status, reason))
  }

  private sweep (): void {
    const now = clockTicks()
    const loginTicks = msToTicks(this.deps.loginTimeoutMs)
    const idleTicks = msToTicks(this.deps.idleTimeoutMs)
    for (const conn of this.deps.registry.connections) {
      if (conn.state === ConnState.NEW && now - conn.connectedAt > loginTicks) this.close(conn, Status.TIMEOUT, 'login timeout')
      else if (now - conn.lastSeen > idleTicks) this.close(conn, Status.TIMEOUT, 'idle timeout')
    }
  }
}

function pushTo (map: Map<number, string[]>, key: number, value: string): void {
  const list = map.get(key)
  if (list === undefined) map.set(key, [value])
  else list.push(value)
}

function decodeDeviceId (bytes: Uint8Array): string {
  try {
    return decodeFrame(bytes).deviceId.slice(0, 64)
  } catch {
    return ''
  }
}
