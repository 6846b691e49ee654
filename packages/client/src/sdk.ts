// ImClient: the push-pull client of docs/protocol.md in one object, for Node and browsers.
//
// Push for speed, pull for truth: pushed 3001s (keyed by the user's userSeq) and 1007 notifications (keyed
// by each group's conversationSeq) feed one SeqStream per stream; what is missing is pulled over HTTP
// (pull-batch for the private stream, group-messages/pull for groups, which also brings every group body)
// and delivered through the same stream, so the app sees each message once, in seq order per stream.
// Sends go through PendingSends (same clientSeq until a 2007 or a final 1006), ACKs through AckBatcher,
// positions to a SeqStore. The connection comes back by itself with jittered exponential back-off (a
// server that drains for a deploy says so in its 1002, and is left like a lost connection: to the next
// configured server), and each login resyncs (sync-check, pull-batch, conversations/sync, group pulls),
// so nothing missed while away is lost.
//
// No node: imports here: browsers load this file; TCP and UDP transports are imported on demand.

import { MessageType, type DecodedFrame, type Frame } from './wire/codec.js'
import { parseConversationId } from './wire/ids.js'
import { ImConnection, endpointOf } from './connection.js'
import { endpointUrl, type TransportKind } from './endpoint.js'
import { TokenKeeper, type RefreshToken, type TokenGrant } from './token-keeper.js'
import { TypedEmitter } from './emitter.js'
import { ImHttpClient, ImHttpError, type FileInfo, type MessageInfo, type MessageStatus, type UploadOptions } from './http.js'
import { contentTypeOf, mediaKindOf, type MediaContent, type MediaKind, type UploadBody } from './media.js'
import { AckBatcher } from './sync/ack-batcher.js'
import { GapPuller, type GapPullError } from './sync/gap-puller.js'
import { PendingSends, SendError, type ChatFrame } from './sync/pending-sends.js'
import { MemorySeqStore, type SeqStore, type SyncState } from './sync/seq-store.js'
import { SeqStream, type SeqRange } from './sync/stream.js'
import { backoffDelay, systemScheduler, type BackoffPolicy } from './sync/timing.js'

/** A delivered message: MessageInfo, with `seq` the seq of its stream (userSeq for private, conversationSeq for group). */
export type ImMessage = MessageInfo

export interface SendReceipt {
  clientSeq: string
  msgId: string
  conversationId: string
  conversationSeq: number
  /** The sender's userSeq (private messages); 0 for group messages. */
  userSeq: number
  timestamp: number
}

export interface ReadEvent {
  /** Who read. */
  readerId: string
  conversationId: string
  /** Private: the reader's last read conversationSeq. */
  lastReadSeq: number
  /** Group: the message whose read count changed, and that count. */
  msgId: string
  readCount: number
}

export interface RecallEvent {
  msgId: string
  conversationId: string
  /** The original sender. */
  fromUserId: string
}

/** 1011 (someone asks the user to be friends) or 1012 (someone accepted the user's request). */
export interface FriendEvent {
  requestId: string
  /** Who asked (1011) or who accepted (1012). */
  fromUserId: string
  /** The request's message (1011); empty for 1012. */
  message: string
  timestamp: number
}

export interface ConnectedEvent {
  /** The server's latest userSeq for this user, from the 1001. */
  userSeq: number
  /** False for the first login of this client. */
  reconnect: boolean
  /** The server logged in to: index into [the main server, ...servers]. */
  server: number
}

export interface DisconnectedEvent {
  reason: string
  /** False after close(), a final kick-out (logout, ban, device cap) or a refused token. */
  willReconnect: boolean
  /** Wait before the next attempt, when willReconnect. */
  delayMs?: number
}

export type ImClientEvents = {
  message: [message: ImMessage]
  receipt: [receipt: SendReceipt]
  read: [event: ReadEvent]
  recall: [event: RecallEvent]
  /** Someone asks to be friends: answer with http.acceptFriendRequest / declineFriendRequest. */
  friendRequest: [event: FriendEvent]
  /** Someone accepted this user's friend request: they are friends now. */
  friendAccepted: [event: FriendEvent]
  kicked: [reason: string]
  connected: [event: ConnectedEvent]
  disconnected: [event: DisconnectedEvent]
  /** The login-time sync requests were answered; pulls they started may still be running. */
  synced: []
  /** The token was renewed through the refreshToken option (store it to resume later). */
  token: [grant: TokenGrant]
  error: [error: Error]
}

/** One server of a cluster: its HTTP API and, optionally, its socket URL (else asked from the server). */
export interface ImServerAddress {
  httpUrl: string
  url?: string
  /** @deprecated Give `url` (or nothing). */
  host?: string
  /** @deprecated Give `url` (or nothing). */
  port?: number
}

export interface ImClientOptions {
  /** Base URL of the HTTP API: `https://chat.example.com` or `http://localhost:8080`. */
  httpUrl: string
  /**
   * The socket to use: `wss://chat.example.com/websocket` (or `ws://`), `tls://host:port` or `tcp://host:port`
   * (Node only), `udp://host:port` (Node only). Default: asked from the server (GET /api/server-info), for
   * `transport`.
   */
  url?: string
  /** With no `url`: which of the server's sockets to use, default 'ws'. */
  transport?: TransportKind
  /** @deprecated Give `url` instead (or nothing: the server says). Plain (non-TLS) host and port. */
  host?: string
  /** @deprecated See `host`. */
  port?: number
  /**
   * Further servers of the same cluster. The first login goes to the server above; each reconnect
   * (a lost connection, a draining server) goes to the next one in turn.
   */
  servers?: ImServerAddress[]
  userId: string
  /** The session token from login (LoginResult.token). */
  token: string
  /** When `token` expires (LoginResult.expiresAt); default: read from the token itself. */
  tokenExpiresAt?: string | number | Date
  /**
   * Renews the token: called shortly before it expires and when the server refuses it (HTTP 401, or a login
   * answered with 401), at most once at a time; the result is used from then on and reported as a 'token'
   * event. Without it, an expired token ends the session with LoginError(401).
   */
  refreshToken?: RefreshToken
  /** Where delivered positions are kept; default in memory (a fresh client pulls all history). */
  store?: SeqStore
  deviceId?: string
  /** Pull missed messages at login and deliver them (default true); off for one-shot senders. */
  sync?: boolean
  /** Heartbeat interval, default 30 s; a connection silent for 2.5 intervals is dropped and redone. */
  heartbeatMs?: number
  /** Wait for the 1001, default 10 s. */
  loginTimeoutMs?: number
  /** First reconnect wait, default 500 ms, doubling (±30 %) up to maxReconnectDelayMs (default 30 s). */
  reconnectBaseMs?: number
  maxReconnectDelayMs?: number
  /** First resend of an unanswered send, default 2 s (PendingSends). */
  resendBaseMs?: number
  /** Wait before sending queued ACKs, default 50 ms. */
  ackDelayMs?: number
  /** How often released gaps are retried, default 5 s. */
  repairIntervalMs?: number
  /** For tests: a fixed source of randomness (jitter). */
  random?: () => number
}

export interface SendFileOptions extends UploadOptions {
  /** The file's name (shown to receivers); default the File's own name, required for other bodies. */
  name?: string
  /** How to send it; default by what the server found: a readable image, video, audio, else a file. */
  kind?: MediaKind
  /** Seconds, for voice and video (the server does not decode them). */
  duration?: number
  /** A video's poster: an image uploaded before. */
  thumbnailId?: string
}

export interface FileSent {
  /** The upload, as the server stored it. */
  file: FileInfo
  receipt: SendReceipt
}

/** The login was refused (1001 with an error code, or a WebSocket upgrade refused with 401). */
export class LoginError extends Error {
  readonly errorCode: number

  constructor (errorCode: number, message: string) {
    super(message)
    this.name = 'LoginError'
    this.errorCode = errorCode
  }
}

export { SendError }

/** 1002 codes after which the client comes back: 503 a draining server, 408 a deadline (docs/protocol.md). */
const RETURN_AFTER_KICK: ReadonlySet<number> = new Set([503, 408])

interface GroupStream {
  readonly conversationId: string
  readonly stream: SeqStream<ImMessage>
  readonly puller: GapPuller<ImMessage>
  /** Highest conversationSeq announced and not yet handed to the stream (1007s are coalesced). */
  announced: number
  noteTimer: ReturnType<typeof setTimeout> | null
}

/** ImClient.state: 'online' while logged in, 'waiting' between reconnect attempts, 'closed' for good. */
export type ImClientState = 'idle' | 'connecting' | 'online' | 'waiting' | 'closed'

const DELIVERED_MEMORY = 20_000
// Re-pulls of a range that came back with a known seq missing: 100 ms, doubling, about 3 s in all.
const PULL_RECHECKS = 5

function isoTime (ms: number): string {
  return new Date(ms > 0 ? ms : Date.now()).toISOString()
}

function asError (error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/** A server's HTTP URL and its socket URL when named (by url, or the deprecated host and port); null: ask it. */
function serverOf (address: ImServerAddress, transport: TransportKind | undefined, prefix: string): { httpUrl: string, socketUrl: string | null } {
  const named = address.url !== undefined || address.host !== undefined || address.port !== undefined
  try {
    return {
      httpUrl: address.httpUrl,
      socketUrl: named ? endpointUrl(endpointOf({ ...address, transport: transport ?? (address.url === undefined ? 'ws' : undefined) })) : null,
    }
  } catch (error) {
    throw new TypeError(`ImClient option ${prefix}${(error as Error).message}`)
  }
}

function positiveOption (name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) throw new RangeError(`ImClient option ${name} must be a positive number, got ${String(value)}`)
  return value
}

export class ImClient extends TypedEmitter<ImClientEvents> {
  readonly userId: string
  /** The HTTP API, authenticated as this user. */
  readonly http: ImHttpClient

  readonly #opts: ImClientOptions
  /** [the main server, ...servers]; a socket URL still null is asked from that server when first used. */
  readonly #servers: Array<{ httpUrl: string, socketUrl: string | null }>
  #serverIndex = 0
  readonly #tokens: TokenKeeper
  readonly #store: SeqStore
  readonly #sync: boolean
  readonly #heartbeatMs: number
  readonly #loginTimeoutMs: number
  readonly #reconnect: BackoffPolicy
  readonly #repairMs: number
  readonly #random: () => number
  readonly #acks: AckBatcher
  readonly #pending: PendingSends<DecodedFrame>
  /** Frames of sends not yet settled, by clientSeq: a receipt turns one into the sender's own message. */
  readonly #drafts = new Map<string, ChatFrame>()
  readonly #groups = new Map<string, GroupStream>()
  /** msgIds delivered lately, oldest first: a last guard so the app never sees one twice. */
  readonly #delivered = new Set<string>()
  #private!: SeqStream<ImMessage>
  #privatePuller!: GapPuller<ImMessage>
  #storedGroups: Record<string, number> = {}

  #phase: ImClientState = 'idle'
  #conn: ImConnection | null = null
  #loggedIn = false
  #epoch = 0
  #attempt = 0
  #everConnected = false
  #lastFrameAt = 0
  #reconnectTimer: ReturnType<typeof setTimeout> | null = null
  #heartbeatTimer: ReturnType<typeof setInterval> | null = null
  #repairTimer: ReturnType<typeof setInterval> | null = null
  #saveTimer: ReturnType<typeof setTimeout> | null = null
  #saving: Promise<void> = Promise.resolve()

  private constructor (opts: ImClientOptions) {
    super()
    for (const key of ['httpUrl', 'userId', 'token'] as const) {
      if (typeof opts[key] !== 'string' || opts[key] === '') throw new TypeError(`ImClient option ${key} must be a non-empty string`)
    }
    if (opts.refreshToken !== undefined && typeof opts.refreshToken !== 'function') throw new TypeError('ImClient option refreshToken must be a function')
    if (opts.transport !== undefined && opts.transport !== 'ws' && opts.transport !== 'tcp' && opts.transport !== 'udp') throw new TypeError(`ImClient option transport must be 'ws', 'tcp' or 'udp', got ${String(opts.transport)}`)
    this.#servers = [serverOf(opts, opts.transport, '')]
    for (const server of opts.servers ?? []) {
      if (typeof server?.httpUrl !== 'string' || server.httpUrl === '') throw new TypeError('ImClient option servers must hold {httpUrl, url?} entries')
      this.#servers.push(serverOf(server, opts.transport, 'servers[].'))
    }
    this.#opts = { ...opts }
    this.userId = opts.userId
    this.#tokens = new TokenKeeper({
      grant: { token: opts.token, expiresAt: opts.tokenExpiresAt },
      refresh: opts.refreshToken,
      scheduler: systemScheduler,
      onRefreshed: (grant) => {
        this.http.token = grant.token
        this.emit('token', grant)
      },
      onError: (error) => this.emit('error', error),
    })
    this.http = new ImHttpClient(opts.httpUrl, opts.refreshToken === undefined ? {} : { onUnauthorized: () => this.#tokens.refresh() })
    this.http.token = opts.token
    this.#store = opts.store ?? new MemorySeqStore()
    this.#sync = opts.sync ?? true
    this.#heartbeatMs = positiveOption('heartbeatMs', opts.heartbeatMs, 30_000)
    this.#loginTimeoutMs = positiveOption('loginTimeoutMs', opts.loginTimeoutMs, 10_000)
    this.#reconnect = {
      baseMs: positiveOption('reconnectBaseMs', opts.reconnectBaseMs, 500),
      maxMs: positiveOption('maxReconnectDelayMs', opts.maxReconnectDelayMs, 30_000),
      jitter: 0.3,
    }
    this.#repairMs = positiveOption('repairIntervalMs', opts.repairIntervalMs, 5_000)
    this.#random = opts.random ?? Math.random
    this.#acks = new AckBatcher({ sendFrame: (frame) => this.#sendIfOnline(frame), delayMs: opts.ackDelayMs ?? 50 })
    this.#pending = new PendingSends<DecodedFrame>({
      sendFrame: (frame) => {
        this.#drafts.set(frame.clientSeq, frame)
        this.#sendOrThrow(frame)
      },
      random: this.#random,
      baseDelayMs: positiveOption('resendBaseMs', opts.resendBaseMs, 2_000),
    })
  }

  /**
   * Loads the stored positions, connects and logs in; resolves once logged in and the login-time sync
   * requests are answered. A refused token rejects with LoginError; so does any failure of this first
   * attempt (after it, the client reconnects by itself).
   */
  static async connect (opts: ImClientOptions): Promise<ImClient> {
    const client = new ImClient(opts)
    await client.#start()
    // Events of the first login (messages pulled, pushes, 'connected') are held until the caller, resumed
    // by this promise, has had its chance to add listeners: a macrotask runs after that continuation.
    setTimeout(() => client.#release(), 0)
    return client
  }

  /** Events held back until connect() has resolved; null once released. */
  #held: Array<() => void> | null = []

  protected override emit<K extends keyof ImClientEvents>(event: K, ...args: ImClientEvents[K]): void {
    if (this.#held !== null) this.#held.push(() => super.emit(event, ...args))
    else super.emit(event, ...args)
  }

  #release (): void {
    const held = this.#held ?? []
    this.#held = null
    for (const emit of held) emit()
  }

  /** The session token in use (renewed by the refreshToken option). */
  get token (): string {
    return this.#tokens.token
  }

  /** 'online' while logged in. */
  get state (): ImClientState {
    return this.#phase
  }

  /** Last userSeq delivered. */
  get userSeq (): number {
    return this.#private.position
  }

  /** Last conversationSeq delivered per group. */
  groupPositions (): Record<string, number> {
    const out: Record<string, number> = { ...this.#storedGroups }
    for (const [id, g] of this.#groups) out[id] = g.stream.position
    return out
  }

  /** Sends waiting for their receipt. */
  get pendingSends (): number {
    return this.#pending.size
  }

  /** Sends a private message; resolves with the 2007 receipt, rejects with SendError (1006 or given up). */
  async sendPrivate (toId: string, content: string, contentType = 1): Promise<SendReceipt> {
    this.#requireOpen()
    return this.#send({ type: MessageType.PRIVATE_CHAT, toId, content, contentType })
  }

  /** Sends to a group, by groupId or `group_{id}`. */
  async sendGroup (group: string, content: string, contentType = 1): Promise<SendReceipt> {
    this.#requireOpen()
    const draft = group.startsWith('group_')
      ? { type: MessageType.GROUP_CHAT, conversationId: group, content, contentType }
      : { type: MessageType.GROUP_CHAT, toId: group, content, contentType }
    return this.#send(draft)
  }

  /**
   * Uploads a file (progress through `onProgress`) and sends it to a user as an image, file, voice or video
   * message. An upload refused rejects with ImHttpError, a send refused with SendError.
   */
  async sendPrivateFile (toId: string, body: UploadBody, options: SendFileOptions = {}): Promise<FileSent> {
    const { file, content, contentType } = await this.#uploadForMessage(body, options)
    return { file, receipt: await this.sendPrivate(toId, content, contentType) }
  }

  /** sendPrivateFile for a group, by groupId or `group_{id}`. */
  async sendGroupFile (group: string, body: UploadBody, options: SendFileOptions = {}): Promise<FileSent> {
    const { file, content, contentType } = await this.#uploadForMessage(body, options)
    return { file, receipt: await this.sendGroup(group, content, contentType) }
  }

  async #uploadForMessage (body: UploadBody, options: SendFileOptions): Promise<{ file: FileInfo, content: string, contentType: number }> {
    this.#requireOpen()
    const name = options.name ?? (typeof File === 'function' && body instanceof File ? body.name : undefined)
    if (name === undefined || name === '') throw new TypeError('sendFile needs options.name for a body that is not a File')
    const file = await this.http.upload(body, name, { onProgress: options.onProgress, signal: options.signal })
    const document: MediaContent = { fileId: file.fileId }
    if (options.duration !== undefined) document.duration = options.duration
    if (options.thumbnailId !== undefined) document.thumbnailId = options.thumbnailId
    return { file, content: JSON.stringify(document), contentType: contentTypeOf(options.kind ?? mediaKindOf(file)) }
  }

  async #send (draft: Omit<ChatFrame, 'clientSeq'>): Promise<SendReceipt> {
    try {
      return this.#receipt(await this.#pending.send(draft))
    } catch (error) {
      if (error instanceof SendError) this.#drafts.delete(error.clientSeq)
      throw error
    }
  }

  /** Tells the server (and the other side) that the conversation is read up to `lastReadSeq` (a conversationSeq). */
  markRead (conversationId: string, lastReadSeq: number): boolean {
    return this.#sendIfOnline({ type: MessageType.MESSAGE_READ_RECEIPT, readReceipt: { conversationId, lastReadSeq } })
  }

  /** Recalls one of this user's messages (2009); a refusal comes back as an 'error' event. */
  recall (msgId: string): boolean {
    return this.#sendIfOnline({ type: MessageType.MESSAGE_RECALL, uid: msgId })
  }

  /**
   * Asks the server what is new (sync-check and conversations/sync) and pulls what is missing; the
   * messages come as 'message' events. Runs at every login; call it to be sure after a quiet spell.
   */
  async sync (): Promise<void> {
    this.#requireOpen()
    if (!this.#sync) return
    const check = await this.http.syncCheck(this.#private.position)
    this.#privatePuller.noteLatest(check.targetSeq)
    const conversations = await this.#syncConversations()
    for (const c of conversations) {
      if (c.conversationType !== 1 || !c.conversationId.startsWith('group_')) continue
      const group = this.#group(c.conversationId)
      group.puller.noteLatest(Math.max(c.lastSeq, group.stream.highest))
    }
    for (const group of this.#groups.values()) group.puller.noteLatest(group.stream.highest)
  }

  /** Logs out of the socket (the token stays valid), stops reconnecting and saves positions. */
  async close (): Promise<void> {
    if (this.#phase === 'closed') return
    this.#acks.flush()
    const conn = this.#shutdown()
    if (conn !== null) {
      try {
        conn.send({ type: MessageType.LOGOUT })
      } catch {
        // Already gone.
      }
      conn.close()
    }
    await this.#save()
  }

  /**
   * Stops for good, the same way whoever stops it (close, a refused login, a kick-out): no timer,
   * pull or pending send outlives it. Returns the connection, for the caller to close.
   */
  #shutdown (): ImConnection | null {
    this.#phase = 'closed'
    this.#stopTimers()
    this.#tokens.stop()
    this.#privatePuller?.close()
    for (const g of this.#groups.values()) {
      g.puller.close()
      if (g.noteTimer !== null) clearTimeout(g.noteTimer)
    }
    this.#pending.close()
    const conn = this.#conn
    this.#conn = null
    this.#loggedIn = false
    return conn
  }

  // ---- connection lifecycle ---------------------------------------------------------------------------

  async #start (): Promise<void> {
    const state = await this.#store.load(this.userId)
    this.#storedGroups = { ...state.groups }
    this.#private = new SeqStream<ImMessage>({ seqOf: (m) => m.seq, position: state.userSeq })
    this.#privatePuller = new GapPuller<ImMessage>({
      stream: this.#private,
      pull: (range) => this.#pullPrivate(range),
      deliver: (messages) => this.#deliver(messages, null),
      onError: (error) => this.#pullFailed(error),
      random: this.#random,
    })
    this.#phase = 'connecting'
    try {
      await this.#session()
    } catch (error) {
      this.#shutdown()?.close()
      throw error
    }
    this.#repairTimer = setInterval(() => this.#repair(), this.#repairMs)
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), this.#heartbeatMs)
    // Node: timers must not keep a process alive that has nothing else to do (a live socket does).
    ;(this.#repairTimer as { unref?: () => void }).unref?.()
    ;(this.#heartbeatTimer as { unref?: () => void }).unref?.()
  }

  /** The current server's address for the chosen transport (GET /api/server-info), instead of guessing ports. */
  async #discover (): Promise<string> {
    const info = await this.http.serverInfo()
    const transport = this.#opts.transport ?? 'ws'
    const url = transport === 'ws' ? info.websocket.url : transport === 'tcp' ? info.tcp.url : info.udp.url
    endpointOf({ url, transport })
    return url
  }

  /** A session; a login refused with 401 renews the token (refreshToken option) and tries once more. */
  async #session (): Promise<void> {
    try {
      await this.#sessionOnce()
    } catch (error) {
      if (!(error instanceof LoginError && error.errorCode === 401 && this.#tokens.canRefresh) || this.#isClosed()) throw error
      await this.#tokens.refresh()
      if (this.#isClosed()) throw new Error('client closed')
      await this.#sessionOnce()
    }
  }

  /** One connection: open, log in, resend pending sends, resync. Throws if any step before sync fails. */
  async #sessionOnce (): Promise<void> {
    const epoch = ++this.#epoch
    const opts = this.#opts
    const server = this.#servers[this.#serverIndex]!
    this.http.baseUrl = server.httpUrl
    server.socketUrl ??= await this.#discover()
    const token = this.#tokens.token
    const conn = await ImConnection.open({ url: server.socketUrl, token, record: false })
    if (epoch !== this.#epoch || this.#phase === 'closed') {
      conn.close()
      throw new Error('client closed')
    }
    this.#conn = conn
    this.#lastFrameAt = Date.now()
    conn.onFrame((frame) => this.#onFrame(epoch, frame))
    void conn.closed.then((info) => this.#onClosed(epoch, info.reason !== undefined && info.reason !== '' ? info.reason : `closed${info.code !== undefined ? ` (${info.code})` : ''}`))
    let answer: DecodedFrame
    try {
      answer = await conn.login(this.userId, token, opts.deviceId, this.#loginTimeoutMs)
    } catch (error) {
      conn.close()
      throw asError(error)
    }
    if (answer.errorCode !== 0) {
      conn.close()
      throw new LoginError(answer.errorCode, `login refused (${answer.errorCode})${answer.content !== '' ? `: ${answer.content}` : ''}`)
    }
    if (epoch !== this.#epoch || this.#isClosed()) throw new Error('client closed')
    this.#loggedIn = true
    this.#phase = 'online'
    this.#attempt = 0
    const reconnect = this.#everConnected
    this.#everConnected = true
    this.emit('connected', { userSeq: answer.userSeq, reconnect, server: this.#serverIndex })
    this.#pending.setRate(answer.rateLimit, answer.rateBurst)
    this.#pending.reconnected()
    if (!this.#sync) return
    this.#privatePuller.noteLatest(answer.userSeq)
    const syncing = this.sync().then(
      () => this.emit('synced'),
      (error: unknown) => this.emit('error', asError(error))
    )
    if (!reconnect) await syncing
  }

  #onClosed (epoch: number, reason: string): void {
    if (epoch !== this.#epoch) return
    this.#conn = null
    this.#loggedIn = false
    this.#acks.clear()
    if (this.#phase === 'closed' || this.#phase === 'idle' || this.#phase === 'connecting') {
      // closed: by close(). idle/connecting: the first attempt, whose failure #start reports.
      if (this.#phase === 'closed') this.emit('disconnected', { reason, willReconnect: false })
      return
    }
    if (this.#phase === 'waiting') return
    this.#scheduleReconnect(reason)
  }

  #scheduleReconnect (reason: string): void {
    const delayMs = backoffDelay(this.#attempt++, this.#reconnect, this.#random)
    this.#serverIndex = (this.#serverIndex + 1) % this.#servers.length
    this.#phase = 'waiting'
    this.emit('disconnected', { reason, willReconnect: true, delayMs })
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null
      if (this.#phase !== 'waiting') return
      this.#phase = 'connecting'
      this.#session().catch((error: unknown) => {
        if (this.#phase === 'closed') return
        const err = asError(error)
        this.#conn = null
        this.#loggedIn = false
        if (err instanceof LoginError) {
          this.#fail(err)
          return
        }
        this.#phase = 'online' // so that #scheduleReconnect's state change is the only one
        this.#scheduleReconnect(err.message)
      })
    }, delayMs)
  }

  /** A refused login or kick-out: stop for good. */
  #fail (error: Error, kicked?: string): void {
    if (this.#phase === 'closed') return
    this.#epoch++ // its close event would report 'disconnected' a second time
    this.#shutdown()?.close()
    if (kicked !== undefined) this.emit('kicked', kicked)
    else this.emit('error', error)
    this.emit('disconnected', { reason: error.message, willReconnect: false })
    void this.#save()
  }

  // A method, not an inline comparison: TypeScript keeps narrowing #phase across awaits.
  #isClosed (): boolean {
    return this.#phase === 'closed'
  }

  #stopTimers (): void {
    if (this.#reconnectTimer !== null) clearTimeout(this.#reconnectTimer)
    if (this.#heartbeatTimer !== null) clearInterval(this.#heartbeatTimer)
    if (this.#repairTimer !== null) clearInterval(this.#repairTimer)
    if (this.#saveTimer !== null) clearTimeout(this.#saveTimer)
    this.#reconnectTimer = this.#heartbeatTimer = this.#repairTimer = this.#saveTimer = null
  }

  #heartbeat (): void {
    const conn = this.#conn
    if (conn === null || !this.#loggedIn) return
    if (Date.now() - this.#lastFrameAt > this.#heartbeatMs * 2.5) {
      // Silent for too long (a half-open TCP connection, a UDP path gone): start over.
      // Start over now: a transport's own close can take long (WebSocket waits for the peer's close
      // frame); the later close event of this epoch is ignored.
      conn.close()
      this.#onClosed(this.#epoch, 'no answer to heartbeats')
      return
    }
    this.#sendIfOnline({ type: MessageType.HEARTBEAT })
  }

  /** Gaps whose pulls gave up are claimed again: noteLatest re-reports released gaps. */
  #repair (): void {
    if (!this.#sync || this.#phase === 'closed') return
    if (this.#private.highest > this.#private.position) this.#privatePuller.noteLatest(this.#private.highest)
    for (const g of this.#groups.values()) if (g.stream.highest > g.stream.position) g.puller.noteLatest(g.stream.highest)
  }

  #requireOpen (): void {
    if (this.#phase === 'closed') throw new SendError(499, 'client closed', '')
  }

  #sendOrThrow (frame: Frame): void {
    const conn = this.#conn
    if (conn === null || !this.#loggedIn) throw new Error('not connected')
    conn.send(frame)
  }

  #sendIfOnline (frame: Frame): boolean {
    try {
      this.#sendOrThrow(frame)
      return true
    } catch {
      return false
    }
  }

  // ---- frames -------------------------------------------------------------------------------------------

  #onFrame (epoch: number, frame: DecodedFrame): void {
    if (epoch !== this.#epoch || this.#phase === 'closed') return
    this.#lastFrameAt = Date.now()
    switch (frame.type) {
      case MessageType.PRIVATE_CHAT:
        this.#onPrivatePush(frame)
        break
      case MessageType.GROUP_MESSAGE_NOTIFICATION:
        this.#onGroupNotification(frame)
        break
      case MessageType.MESSAGE_SEND_RECEIPT:
        this.#onReceipt(frame)
        break
      case MessageType.MESSAGE_DELIVERY_FAILED:
        if (!this.#pending.handleFrame(frame)) {
          if (frame.uid !== '' || frame.clientSeq === '') this.emit('error', new SendError(frame.errorCode, frame.content !== '' ? frame.content : `refused${frame.uid !== '' ? ` (message ${frame.uid})` : ''}`, frame.clientSeq))
        } else if (!this.#pending.has(frame.clientSeq)) {
          this.#drafts.delete(frame.clientSeq)
        }
        break
      case MessageType.MESSAGE_READ_NOTIFICATION: {
        const n = frame.readNotification
        this.emit('read', {
          readerId: frame.fromId,
          conversationId: n?.conversationId || frame.conversationId,
          lastReadSeq: n?.lastReadSeq ?? 0,
          msgId: n?.msgId ?? '',
          readCount: n?.readCount ?? 0,
        })
        break
      }
      case MessageType.RECALL_NOTIFICATION:
        this.emit('recall', { msgId: frame.uid, conversationId: frame.conversationId, fromUserId: frame.fromId })
        break
      case MessageType.FRIEND_REQUEST_NOTIFICATION:
      case MessageType.FRIEND_ACCEPTED_NOTIFICATION:
        this.emit(frame.type === MessageType.FRIEND_REQUEST_NOTIFICATION ? 'friendRequest' : 'friendAccepted', {
          requestId: frame.uid, fromUserId: frame.fromId, message: frame.content, timestamp: frame.timestamp
        })
        break
      case MessageType.KICKOUT_NOTIFICATION:
        if (RETURN_AFTER_KICK.has(frame.errorCode)) {
          // Going away (a drain) or a deadline: not a kick. Leave now, as after a lost connection; the
          // server's own close of this epoch is then ignored.
          this.#conn?.close()
          this.#onClosed(epoch, frame.content !== '' ? frame.content : `server going away (${frame.errorCode})`)
        } else {
          this.#fail(new Error(`kicked out: ${frame.content}`), frame.content)
        }
        break
      case MessageType.ERROR:
        this.emit('error', new Error(`server error ${frame.errorCode}: ${frame.content}`))
        break
      default:
        // 1001 (answered to login), 1003 (heartbeat): nothing to do.
        break
    }
  }

  #onPrivatePush (frame: DecodedFrame): void {
    if (frame.uid === '') return
    // ACK every push, duplicates too: the server resends until it sees one.
    this.#acks.ack(frame.uid)
    if (!this.#sync || frame.userSeq < 1) return
    const message: ImMessage = {
      msgId: frame.uid,
      seq: frame.userSeq,
      conversationSeq: frame.conversationSeq,
      conversationId: frame.conversationId,
      fromUserId: frame.fromId,
      toUserId: frame.toId !== '' ? frame.toId : null,
      groupId: null,
      msgType: 1,
      contentType: frame.contentType !== 0 ? frame.contentType : 1,
      content: frame.content,
      status: 0,
      createTime: isoTime(frame.timestamp),
    }
    this.#privatePuller.accept(frame.userSeq, message)
  }

  #onGroupNotification (frame: DecodedFrame): void {
    if (!this.#sync || frame.conversationId === '' || frame.conversationSeq < 1) return
    const group = this.#group(frame.conversationId)
    if (frame.conversationSeq <= group.announced) return
    group.announced = frame.conversationSeq
    // Coalesce a burst of notifications into one pull of their bodies.
    if (group.noteTimer === null) {
      group.noteTimer = setTimeout(() => {
        group.noteTimer = null
        if (this.#phase !== 'closed') group.puller.noteLatest(group.announced)
      }, 10)
    }
  }

  #onReceipt (frame: DecodedFrame): void {
    const draft = this.#drafts.get(frame.clientSeq)
    if (draft !== undefined && this.#sync && frame.uid !== '') {
      // Our own message: the receipt says where it sits in our streams, so no pull is needed for it.
      const own: ImMessage = {
        msgId: frame.uid,
        seq: 0,
        conversationSeq: frame.conversationSeq,
        conversationId: frame.conversationId,
        fromUserId: this.userId,
        toUserId: null,
        groupId: null,
        msgType: 1,
        contentType: draft.contentType ?? 1,
        content: draft.content ?? '',
        status: 0 as MessageStatus,
        createTime: isoTime(frame.timestamp),
      }
      if (draft.type === MessageType.PRIVATE_CHAT && frame.userSeq > 0) {
        own.seq = frame.userSeq
        own.toUserId = draft.toId ?? null
        this.#privatePuller.accept(frame.userSeq, own)
      } else if (draft.type === MessageType.GROUP_CHAT && frame.conversationSeq > 0 && frame.conversationId !== '') {
        own.seq = frame.conversationSeq
        own.msgType = 2
        const parsed = parseConversationId(frame.conversationId)
        own.groupId = parsed?.kind === 'group' ? parsed.groupId : frame.conversationId
        this.#group(frame.conversationId).puller.accept(frame.conversationSeq, own)
      }
    }
    if (this.#pending.handleFrame(frame)) {
      this.#drafts.delete(frame.clientSeq)
      this.emit('receipt', this.#receipt(frame))
    }
  }

  #receipt (frame: DecodedFrame): SendReceipt {
    return {
      clientSeq: frame.clientSeq,
      msgId: frame.uid,
      conversationId: frame.conversationId,
      conversationSeq: frame.conversationSeq,
      userSeq: frame.userSeq,
      timestamp: frame.timestamp,
    }
  }

  // ---- streams ------------------------------------------------------------------------------------------

  #group (conversationId: string): GroupStream {
    let group = this.#groups.get(conversationId)
    if (group !== undefined) return group
    const stream = new SeqStream<ImMessage>({ seqOf: (m) => m.seq, position: this.#storedGroups[conversationId] ?? 0 })
    const puller = new GapPuller<ImMessage>({
      stream,
      pull: (range) => this.#pullGroup(conversationId, range),
      deliver: (messages) => this.#deliver(messages, conversationId),
      onError: (error) => this.#pullFailed(error),
      random: this.#random,
    })
    group = { conversationId, stream, puller, announced: stream.position, noteTimer: null }
    this.#groups.set(conversationId, group)
    return group
  }

  async #pullPrivate (range: SeqRange): Promise<ImMessage[]> {
    // One request covers the range: `limit` seqs from `from`, ascending; any beyond `to` count as pushed.
    return this.#pullComplete(range, this.#private, async (from, to) => {
      const batch = await this.http.pullBatch(from, Math.min(500, to - from + 1))
      return batch.messages.filter((m) => m.msgType !== 2)
    })
  }

  async #pullGroup (conversationId: string, range: SeqRange): Promise<ImMessage[]> {
    const stream = this.#group(conversationId).stream
    return this.#pullComplete(range, stream, async (from, to) => {
      try {
        const result = await this.http.groupPull({ [conversationId]: from - 1 }, Math.min(500, to - from + 1))
        return (result.conversations[conversationId] ?? []).map((m) => (m.seq === m.conversationSeq ? m : { ...m, seq: m.conversationSeq }))
      } catch (error) {
        // No longer a member (or the group is gone): nothing there is ours to see; let the stream move on.
        if (error instanceof ImHttpError && (error.status === 403 || error.status === 404)) return []
        throw error
      }
    })
  }

  /**
   * Pulls `range`, and pulls again (100 ms, doubling, about 3 s in all) while a seq the stream still needs
   * and knows to exist (at most its highest) is missing. A user's userSeqs come from several shards, so a
   * pull can run before a lower seq's commit; taking that seq as empty at once would deliver it late, out
   * of order. A seq still missing after the retries is empty (a restart skipped it), as the stream expects.
   */
  async #pullComplete (range: SeqRange, stream: SeqStream<ImMessage>, fetch: (from: number, to: number) => Promise<ImMessage[]>): Promise<ImMessage[]> {
    const got = new Map<number, ImMessage>()
    let from = range.from
    for (let attempt = 0; ; attempt++) {
      for (const m of await fetch(from, range.to)) got.set(m.seq, m)
      const limit = Math.min(range.to, stream.highest)
      let missing = -1
      for (let seq = Math.max(range.from, stream.position + 1); seq <= limit; seq++) {
        if (!got.has(seq)) {
          missing = seq
          break
        }
      }
      if (missing < 0 || attempt >= PULL_RECHECKS || this.#isClosed()) return [...got.values()]
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt))
      from = missing
    }
  }

  #pullFailed (error: GapPullError): void {
    this.emit('error', error)
  }

  #deliver (messages: ImMessage[], conversationId: string | null): void {
    let last = 0
    for (const message of messages) {
      last = message.seq
      if (this.#delivered.has(message.msgId)) continue
      this.#delivered.add(message.msgId)
      if (this.#delivered.size > DELIVERED_MEMORY) {
        const [oldest] = this.#delivered
        this.#delivered.delete(oldest)
      }
      this.emit('message', message)
    }
    if (conversationId !== null && last > 0) {
      const position = this.#groups.get(conversationId)?.stream.position ?? last
      this.#acks.ackGroup(conversationId, position)
    }
    this.#scheduleSave()
  }

  async #syncConversations () {
    return (await this.http.syncConversations(1000)).conversations
  }

  // ---- positions ----------------------------------------------------------------------------------------

  #state (): SyncState {
    return { userSeq: this.#private.position, groups: this.groupPositions() }
  }

  #scheduleSave (): void {
    if (this.#saveTimer !== null || this.#phase === 'closed') return
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = null
      void this.#save()
    }, 200)
  }

  #save (): Promise<void> {
    if (this.#private === undefined) return this.#saving
    const state = this.#state()
    this.#saving = this.#saving.then(() =>
      this.#store.save(this.userId, state).catch((error: unknown) => this.emit('error', new Error('saving positions failed', { cause: error })))
    )
    return this.#saving
  }
}
