import type { Sql } from '../db/connect.js'
import type { Logger } from '../log.js'
import { decodeFrame, encodeFrame, MessageType, type DecodedFrame, privateConversationId, isMsgId, groupConversationId, parseConversationId, peerOf } from '@implus/client/wire'
import { AppError, Status } from '../errors.js'
import { deliveryFailed, errorFrame } from '../messages/refusals.js'
import { conversationSeqKey, userSeqKey } from '../seq/engine.js'
import { Snowflake, msgIdFloor, shardOfMsgId } from '../snowflake.js'
import { shardOf } from './route.js'
import { IdempotencyCache, receiptFrame, storedReceipts, type Receipt, type SharedReceipts } from './idempotency.js'
import { FanOut } from './fan-out.js'
import { PermissionCache } from './permissions.js'
import { MemberCache, type Group } from './members.js'
import { GroupAdmin, type Announce } from './group-admin.js'
import { Recalls } from './recall.js'
import { ReadState } from './read-state.js'
import { TICK_MS } from './timing-wheel.js'
import { Resends } from './resends.js'
import { WriteBatch } from './write-batch.js'
import { MsgType } from '../db/schema.js'
import { groupSendRefusal, preview, privateSendRefusal, type Refusal } from './rules.js'
import type { Outbox } from './outbox.js'
import type { SeqClient } from './seq-client.js'
import type { Call, CallReply, InboundBatch, ShardStats } from './thread-messages.js'
import type { PrivateChatPolicy } from '../config.js'
import { emptyHistogram, observe, sharedNow } from '../histogram.js'
import { emptyStages, stage } from './send-stages.js'
import { completeDocument, isMediaType, isRefusal, mediaPreviewText, mediaRefusal, parseMediaDocument, referencedFiles, type MediaDocument, type StoredFile } from '../media/content.js'
import { checkFiles } from './media-files.js'
import { chatConversation, isRefusal as isFrameRefusal, parseGroupAcks, parseMsgIds, readReceiptRefusal, sendFieldsRefusal, type GroupAckItem } from './frame-check.js'

export interface ShardOptions {
  readonly index: number
  readonly shards: number
  readonly nodeSlot: number
  readonly privateChat: PrivateChatPolicy
  readonly recallWindowMs: number
  readonly groupReadReceiptMaxMembers: number
  /** How long a (sender, clientSeq) repeat gets the first receipt (docs/protocol.md: 5 minutes). */
  readonly idempotencyWindowMs: number
  /** Members a group may have (IMPLUS_MAX_GROUP_MEMBERS). */
  readonly maxGroupMembers: number
  /** Frames waiting for a cycle at most; beyond it sends are refused with 503 (bounded memory). */
  readonly queueLimit: number
  /** Receipts seen by every host (Redis in cluster mode, nothing to share on one host). */
  readonly receipts: SharedReceipts
  /** Cluster mode: group fan-out names every member, wherever connected (pub/sub finds them). */
  readonly cluster: boolean
  /** Bounds of the resend wheel. */
  readonly resendMaxPerUser: number
  readonly resendMaxBytes: number
}

interface Inbound {
  readonly connId: number
  readonly userId: string
  readonly frame: DecodedFrame
  /** 2005: the message ids this shard owns; 2006: the groups this shard owns, checked once at decode. */
  readonly acks?: readonly string[]
  readonly groupAcks?: readonly GroupAckItem[]
  /** performance.now() when the frame reached this shard. */
  readonly at: number
  /** Set when the frame comes back after its batch met a stored copy of one of its sends. */
  readonly retried?: boolean
}

interface Send {
  readonly connId: number
  readonly senderId: string
  readonly frame: DecodedFrame
  readonly key: string
  readonly conversationId: string
  /** Private: the other user. Group: ''. */
  readonly receiverId: string
  /** performance.now() when the frame reached this shard. */
  readonly at: number
  group: Group | null
  receipt: Receipt | null
  /** What is stored and pushed: the frame's content, or a media message's completed document. */
  content: string
  /** What the 1007 preview is cut from: the content, or a media message's kind and name. */
  previewText: string
  /** A media message's document as sent (contentType 2-5), else null. */
  readonly media: MediaDocument | null
  /** Uploaded files the message refers to, once its checks passed. */
  files: readonly string[]
  /** Its batch failed on a stored copy of one of its sends: check it against the database. */
  readonly retried: boolean
}

const MAX_CYCLE_FRAMES = 4000
/** The gateway and the decoder read a frame's routing fields differently (a field sent with the wrong wire type). */
const MISREAD: Refusal = { status: Status.BAD_REQUEST, reason: 'malformed frame: its fields do not agree' }
/** contentType of the messages that record a group's changes (docs/protocol.md "Groups"). */
const SYSTEM_CONTENT_TYPE = 99
const UNIQUE_VIOLATION = '23505'
// One batch committing while the next is prepared; more would only queue inside PostgreSQL.
const MAX_PENDING_COMMITS = 1

/**
 * One shard: it owns its conversations outright. Frames queue up while a
 * cycle runs; each cycle checks, numbers and stores everything queued in one
 * transaction (group commit), and only after the commit sends receipts and
 * pushes. One cycle at a time, so a conversation's messages are stored and
 * delivered in the order they arrived.
 */
export class Shard {
  private queue: Inbound[] = []
  private calls: { call: Call, reply: (r: CallReply) => void }[] = []
  private pushFailures: [string, string][] = []
  private preparing = false
  /** Commits in flight, each waiting for the one before it. */
  private committing = 0
  private lastCommit: Promise<void> = Promise.resolve()
  private draining: (() => void) | null = null
  private readonly online = new Set<string>()
  private readonly idempotency: IdempotencyCache<Receipt>
  private readonly permissions: PermissionCache
  private readonly members: MemberCache
  private readonly groups: GroupAdmin
  private readonly readState: ReadState
  private readonly recalls: Recalls
  private readonly resends: Resends
  private readonly fanOut: FanOut
  private readonly ids: Snowflake
  private stats = { cycles: 0, messages: 0, checkSeconds: 0, seqSeconds: 0, commitSeconds: 0, refused: 0 }
  /** From a send reaching this shard to its receipt, since the last report. */
  private sendLatency = emptyHistogram()
  /** The same sends stage by stage, since the last report. */
  private stages = emptyStages()
  /** Until then the in-memory idempotency window may miss sends made before a restart: check the database. */
  private readonly coldUntil: number
  /** Who sent anything in the window before this start; null until known (then every send is checked). */
  private recentSenders: Set<string> | null = null

  constructor (
    private readonly options: ShardOptions,
    private readonly sql: Sql,
    private readonly seq: SeqClient,
    private readonly out: Outbox,
    private readonly log: Logger
  ) {
    this.idempotency = new IdempotencyCache(options.idempotencyWindowMs)
    this.coldUntil = Date.now() + options.idempotencyWindowMs
    this.permissions = new PermissionCache(sql)
    this.members = new MemberCache(sql)
    this.groups = new GroupAdmin(sql, this.members, options.maxGroupMembers)
    this.readState = new ReadState({
      sql,
      out,
      log,
      members: this.members,
      permissions: this.permissions,
      groupReadReceiptMaxMembers: options.groupReadReceiptMaxMembers
    })
    this.recalls = new Recalls(sql, out, this.members, this.reachable, options.recallWindowMs)
    this.ids = new Snowflake(options.nodeSlot, options.index)
    this.resends = new Resends({
      online: userId => this.online.has(userId),
      resend: (userId, frame) => this.out.toUser(userId, frame),
      failed: (userId, msgId) => {
        this.pushFailures.push([userId, msgId])
        this.kick()
      }
    }, { perUser: options.resendMaxPerUser, bytes: options.resendMaxBytes })
    this.fanOut = new FanOut(out, this.resends, this.online, this.reachable)
    setInterval(() => {
      this.resends.tick()
      this.idempotency.expire(Date.now())
    }, TICK_MS).unref()
    void this.loadRecentSenders()
  }

  /**
   * Only these users can repeat a send stored before this start within the
   * idempotency window, so only their sends need the database check.
   */
  private async loadRecentSenders (): Promise<void> {
    try {
      const rows = await this.sql<{ sender: string }[]>`
        select distinct sender_id as sender from message where msg_id >= ${msgIdFloor(Date.now() - this.options.idempotencyWindowMs)}`
      this.recentSenders = new Set(rows.map(r => r.sender))
    } catch (err) {
      this.log.warn({ err }, 'recent senders not loaded: every send is checked against the database for 5 minutes')
    }
  }

  /** Work done since the last call, for the main thread's /metrics. */
  takeStats (): Omit<ShardStats, 'loopDelay'> {
    const stats = { t: 'stats' as const, ...this.stats, sendLatency: this.sendLatency, stages: this.stages, pendingResends: this.resends.pending, queued: this.queue.length, cacheBytes: this.permissions.bytes + this.members.bytes, resendBytes: this.resends.heldBytes }
    this.stats = { cycles: 0, messages: 0, checkSeconds: 0, seqSeconds: 0, commitSeconds: 0, refused: 0 }
    this.sendLatency = emptyHistogram()
    this.stages = emptyStages()
    return stats
  }

  frames (batch: InboundBatch): void {
    const { data, index, users, readAt } = batch
    const arrived = sharedNow()
    for (let i = 0, f = 0; i < index.length; i += 3, f++) {
      const connId = index[i]!
      let frame: DecodedFrame
      try {
        frame = decodeFrame(data.subarray(index[i + 1]!, index[i + 1]! + index[i + 2]!))
      } catch {
        this.out.toConn(connId, errorFrame(Status.BAD_REQUEST, 'malformed frame'))
        continue
      }
      if (this.queue.length >= this.options.queueLimit) {
        this.overloaded(connId, frame)
        continue
      }
      if (frame.type === MessageType.PRIVATE_CHAT || frame.type === MessageType.GROUP_CHAT) stage(this.stages, 'handoff', arrived - readAt[f]!, 1)
      const inbound = this.checked({ connId, userId: users[f]!, frame, at: performance.now() })
      if (inbound !== null) this.queue.push(inbound)
    }
    this.kick()
  }

  /**
   * Validates a decoded frame completely, here where it is decoded, so the cycle meets only frames it can
   * store: a bad one is answered alone (1006 with its clientSeq for a send, 1009 otherwise) and never
   * joins a batch. Returns the frame with its parsed items, or null when it was answered.
   */
  private checked (item: Inbound): Inbound | null {
    const { frame, userId, connId } = item
    switch (frame.type) {
      case MessageType.PRIVATE_CHAT:
      case MessageType.GROUP_CHAT: {
        const conversationId = chatConversation(frame.type, userId, frame.toId, frame.conversationId)
        const refusal = isFrameRefusal(conversationId) ? conversationId : this.owns(conversationId) ? sendFieldsRefusal(frame) : MISREAD
        if (refusal !== null) return this.refuse(connId, frame.clientSeq, refusal)
        return item
      }
      case MessageType.MESSAGE_ACK:
      case MessageType.MESSAGE_RECALL:
        if (isMsgId(frame.uid) && this.ownsMsg(frame.uid)) return item
        break
      case MessageType.BATCH_MESSAGE_ACK: {
        const ids = parseMsgIds(frame.content)
        if (!isFrameRefusal(ids)) return { ...item, acks: ids.filter(this.ownsMsg) }
        break
      }
      case MessageType.GROUP_CONVERSATION_ACK: {
        const acks = parseGroupAcks(frame.content)
        if (!isFrameRefusal(acks)) return { ...item, groupAcks: acks.filter(a => this.owns(a.conversationId)) }
        break
      }
      case MessageType.MESSAGE_READ_RECEIPT:
        if (readReceiptRefusal(frame) === null && this.owns(frame.readReceipt!.conversationId)) return item
        break
    }
    this.out.toConn(connId, errorFrame(Status.BAD_REQUEST, 'malformed frame'))
    return null
  }

  private readonly owns = (conversationId: string): boolean => shardOf(conversationId, this.options.shards) === this.options.index
  private readonly ownsMsg = (msgId: string): boolean => shardOfMsgId(msgId, this.options.shards) === this.options.index

  /**
   * The queue is full: PostgreSQL is not keeping up (or not answering). A send is refused with 503,
   * so its client retries with the same clientSeq later; anything else is dropped (an ACK's push is
   * resent, a read receipt is sent again with the next one). Memory stays bounded either way.
   */
  private overloaded (connId: number, frame: DecodedFrame): void {
    this.stats.refused++
    if (frame.type !== MessageType.PRIVATE_CHAT && frame.type !== MessageType.GROUP_CHAT) return
    this.out.toConn(connId, deliveryFailed({ clientSeq: frame.clientSeq }, Status.UNAVAILABLE, 'server overloaded, retry with the same clientSeq'))
  }

  presence (online: string[], offline: string[]): void {
    for (const u of online) this.online.add(u)
    for (const u of offline) this.online.delete(u)
  }

  usersChanged (userIds: string[]): void {
    for (const u of userIds) this.permissions.forget(u)
  }

  call (call: Call, reply: (r: CallReply) => void): void {
    this.calls.push({ call, reply })
    this.kick()
  }

  /** Resolves once everything queued has been committed and answered. */
  drain (): Promise<void> {
    return new Promise(resolve => {
      this.draining = resolve
      this.kick()
    })
  }

  private kick (): void {
    if (this.preparing || this.committing > MAX_PENDING_COMMITS) return
    if (this.queue.length === 0 && this.calls.length === 0 && this.pushFailures.length === 0) {
      if (this.draining !== null && this.committing === 0) {
        this.out.flush()
        this.draining()
        this.draining = null
      }
      return
    }
    this.preparing = true
    void this.cycle().finally(() => {
      this.preparing = false
      this.kick()
    })
  }

  /**
   * Two stages: checking and numbering a batch (this method) overlaps with
   * committing the previous one, but commits, and so receipts and pushes,
   * happen strictly in batch order.
   */
  private async cycle (): Promise<void> {
    const began = performance.now()
    const items = this.queue.length <= MAX_CYCLE_FRAMES ? this.queue : this.queue.slice(0, MAX_CYCLE_FRAMES)
    this.queue = items === this.queue ? [] : this.queue.slice(MAX_CYCLE_FRAMES)
    const calls = this.calls
    this.calls = []
    const batch = new WriteBatch()
    const after: (() => void)[] = []
    for (const [user, msg] of this.pushFailures) batch.markPushFailed(user, msg)
    this.pushFailures = []
    const sends: Send[] = []
    let numbered = 0
    try {
      const recalls: Inbound[] = []
      const reads: Inbound[] = []
      const groupAcks: Inbound[] = []
      for (const item of items) {
        switch (item.frame.type) {
          case MessageType.PRIVATE_CHAT:
          case MessageType.GROUP_CHAT: {
            stage(this.stages, 'queue', began - item.at, 1)
            const send = this.admitAlone(item)
            if (send !== null) sends.push(send)
            break
          }
          case MessageType.MESSAGE_ACK:
            this.ack(item.userId, item.frame.uid, batch)
            break
          case MessageType.BATCH_MESSAGE_ACK:
            for (const id of item.acks!) this.ack(item.userId, id, batch)
            break
          case MessageType.GROUP_CONVERSATION_ACK:
            groupAcks.push(item)
            break
          case MessageType.MESSAGE_READ_RECEIPT:
            reads.push(item)
            break
          case MessageType.MESSAGE_RECALL:
            recalls.push(item)
            break
        }
      }
      // A group changed elsewhere (created, or changed through another host): forgotten before this cycle's
      // sends are checked, so a send that arrived with the news already obeys it.
      for (const { call } of calls) if (call.op === 'group.forget') this.members.forget(call.args.conversationId)
      const started = performance.now()
      await this.checkSends(sends, reads, calls)
      const checked = performance.now()
      await this.number(sends, batch, after)
      numbered = performance.now()
      this.stats.checkSeconds += (checked - started) / 1000
      this.stats.seqSeconds += (numbered - checked) / 1000
      stage(this.stages, 'check', checked - began, sends.length)
      stage(this.stages, 'numbering', numbered - checked, sends.length)
      this.stats.messages += sends.length
      this.stats.cycles++
      for (const { userId, groupAcks: acks } of groupAcks) for (const { conversationId, seq } of acks!) batch.groupAck(userId, conversationId, seq)
      for (const { userId, frame } of reads) this.readState.read(userId, frame, batch, after)
      await this.recalls.fromFrames(recalls.map(({ userId, connId, frame }) => ({ userId, connId, msgId: frame.uid })), batch, after)
      for (const { call, reply } of calls) await this.applyCall(call, reply, batch, after)
    } catch (err) {
      return this.failCycle(err, items, calls)
    }
    const previous = this.lastCommit
    this.committing++
    this.lastCommit = (async () => {
      await previous
      try {
        const started = performance.now()
        if (!batch.empty) await batch.commit(this.sql)
        const committed = performance.now()
        this.stats.commitSeconds += (committed - started) / 1000
        stage(this.stages, 'commit_wait', started - numbered, sends.length)
        stage(this.stages, 'commit', committed - started, sends.length)
        for (const fn of after) fn()
      } catch (err) {
        return this.failCycle(err, items, calls)
      } finally {
        this.committing--
        this.kick()
      }
      // Off the commit chain: the next batch's commit need not wait for Redis. A repeat arriving before
      // the receipts are shared still meets the stored copy (unique key) and gets its original receipt.
      if (sends.length > 0) void this.shareReceipts(sends)
    })()
  }

  /** A send whose first look throws (a case the checks at decode missed) is answered 500 alone; its batch goes on. */
  private admitAlone (item: Inbound): Send | null {
    try {
      return this.admit(item)
    } catch (err) {
      this.log.error({ err, userId: item.userId }, 'a send could not be admitted; refused alone')
      this.forgetInFlight(item)
      return this.refuse(item.connId, item.frame.clientSeq, { status: Status.INTERNAL, reason: 'internal error' })
    }
  }

  /** First look at a send: cheap checks and idempotency. Returns null when it was answered already. */
  private admit (item: Inbound): Send | null {
    const { frame, userId, connId } = item
    let media: MediaDocument | null = null
    if (isMediaType(frame.contentType)) {
      const parsed = parseMediaDocument(frame.content, frame.contentType)
      if (isRefusal(parsed)) return this.refuse(connId, frame.clientSeq, parsed)
      media = parsed
    }
    const key = IdempotencyCache.key(userId, frame.clientSeq)
    const now = Date.now()
    const seen = this.idempotency.get(key, now)
    if (seen !== undefined) {
      if (seen.receipt !== null) this.out.toConn(connId, receiptFrame(frame.clientSeq, seen.receipt))
      else (seen.waiting ??= []).push(connId)
      return null
    }
    this.idempotency.begin(key, now)
    const isPrivate = frame.type === MessageType.PRIVATE_CHAT
    const conversationId = isPrivate
      ? privateConversationId(userId, frame.toId)
      : groupConversationId(frame.toId !== '' ? frame.toId : frame.conversationId.slice(6))
    return {
      connId,
      senderId: userId,
      frame,
      key,
      conversationId,
      receiverId: isPrivate ? frame.toId : '',
      at: item.at,
      group: null,
      receipt: null,
      content: frame.content,
      previewText: frame.content,
      media,
      files: [],
      retried: item.retried === true
    }
  }

  /**
   * Everything a cycle must know before numbering, fetched in parallel: cached
   * permission facts and memberships, and earlier copies of these sends (in
   * Redis, and in the database while the in-memory window may predate a
   * restart). A repeat gets its first receipt whatever the checks say now;
   * the rest are checked and refused sends dropped.
   */
  private async checkSends (sends: Send[], reads: Inbound[], calls: { call: Call }[]): Promise<void> {
    const now = Date.now()
    const [, , shared, stored, files] = await Promise.all([
      this.prepare(sends, reads, calls),
      // Segment reservations overlap with the checks, so numbering needs none, but only for sends the cached
      // facts already allow: a send refused (or not yet known) reserves nothing before it is checked.
      this.seq.prepare(this.seqKeys(sends.filter(s => this.allowedByCache(s, now)))),
      this.options.receipts.find(sends.map(s => [s.senderId, s.frame.clientSeq] as const)),
      storedReceipts(this.sql, sends.filter(s => s.retried || (now < this.coldUntil && (this.recentSenders?.has(s.senderId) ?? true)))),
      checkFiles(this.sql, namedFiles(sends))
    ])
    let kept = 0
    for (let i = 0; i < sends.length; i++) {
      const s = sends[i]!
      const repeat = shared?.[i] ?? stored?.get(s.key) ?? null
      if (repeat !== null) {
        this.settleIdempotency(s, repeat)
        continue
      }
      const refusal = this.refusalOf(s, now) ?? this.mediaRefusalOf(s, files)
      if (refusal !== null) {
        this.idempotency.forget(s.key)
        this.refuse(s.connId, s.frame.clientSeq, refusal)
        continue
      }
      sends[kept++] = s
    }
    sends.length = kept
  }

  /** Whether the facts cached before this batch's loads already allow the send. */
  private allowedByCache (s: Send, now: number): boolean {
    if (!this.permissions.has(s.senderId)) return false
    if (s.receiverId !== '') {
      if (!this.permissions.has(s.receiverId) || !this.permissions.hasRelation(s.receiverId, s.senderId)) return false
    } else if (this.members.get(s.conversationId) === undefined) return false
    return this.refusalOf(s, now) === null
  }

  private refusalOf (s: Send, now: number): Refusal | null {
    if (s.receiverId !== '') {
      return privateSendRefusal(this.permissions.user(s.senderId), this.permissions.user(s.receiverId), this.permissions.relation(s.receiverId, s.senderId), this.options.privateChat, now)
    }
    s.group = this.members.get(s.conversationId) ?? null
    return groupSendRefusal(this.permissions.user(s.senderId), s.senderId, s.group, now)
  }

  /** A media message's file checks; when they pass, its content becomes the completed document. */
  private mediaRefusalOf (s: Send, files: ReadonlyMap<string, StoredFile>): Refusal | null {
    if (s.media === null) return null
    const refusal = mediaRefusal(s.media, s.frame.contentType, s.senderId, files)
    if (refusal !== null) return refusal
    const file = files.get(s.media.fileId)!
    s.content = completeDocument(s.media, file)
    s.previewText = mediaPreviewText(s.frame.contentType, s.media.name ?? file.name)
    s.files = referencedFiles(s.media, file)
    return null
  }

  /** Loads whatever of the cached facts these checks need is not cached yet. */
  private async prepare (sends: Send[], reads: Inbound[], calls: { call: Call }[]): Promise<void> {
    const users: string[] = []
    const pairs: [string, string][] = []
    const groups: string[] = []
    for (const s of sends) {
      users.push(s.senderId)
      if (s.receiverId !== '') {
        users.push(s.receiverId)
        pairs.push([s.receiverId, s.senderId])
      } else groups.push(s.conversationId)
    }
    for (const r of reads) {
      const id = r.frame.readReceipt!.conversationId
      const parsed = parseConversationId(id)!
      if (parsed.kind === 'group') groups.push(id)
      else {
        const peer = peerOf(parsed, r.userId)
        if (peer !== null) {
          users.push(peer)
          pairs.push([peer, r.userId])
        }
      }
    }
    for (const { call } of calls) {
      const conv = (call.args as { conversationId?: unknown }).conversationId
      if (typeof conv === 'string') groups.push(conv)
    }
    await Promise.all([this.permissions.load(users, pairs), this.members.load(groups)])
  }

  /** The sequence keys a batch of sends numbers, in the order `number` consumes them. */
  private seqKeys (sends: Send[]): string[] {
    const keys: string[] = []
    for (const s of sends) {
      keys.push(conversationSeqKey(s.conversationId))
      if (s.receiverId !== '') keys.push(userSeqKey(s.senderId), userSeqKey(s.receiverId))
    }
    return keys
  }

  /** Allocates seqs and ids and stages rows; receipts and pushes wait in `after` until the commit. */
  private async number (sends: Send[], batch: WriteBatch, after: (() => void)[]): Promise<void> {
    if (sends.length === 0) return
    const values = await this.seq.allocate(this.seqKeys(sends))
    const time = Date.now()
    let v = 0
    for (const s of sends) {
      const msgId = this.ids.next()
      const conversationSeq = values[v++]!
      const f = s.frame
      const contentType = f.contentType === 0 ? 1 : f.contentType
      if (s.files.length > 0) batch.files(msgId, s.files)
      if (s.receiverId !== '') {
        const senderSeq = values[v++]!
        const receiverSeq = values[v++]!
        batch.message({ msgId, conversationId: s.conversationId, conversationSeq, senderId: s.senderId, receiverId: s.receiverId, msgType: MsgType.PRIVATE, contentType, content: s.content, clientSeq: f.clientSeq, time })
        batch.userMessage(s.senderId, senderSeq, msgId, s.conversationId)
        batch.userMessage(s.receiverId, receiverSeq, msgId, s.conversationId)
        batch.touchUserConversation(s.senderId, s.conversationId, msgId, time, 0)
        batch.touchUserConversation(s.receiverId, s.conversationId, msgId, time, 1)
        s.receipt = { msgId, conversationId: s.conversationId, conversationSeq, userSeq: senderSeq, time }
        after.push(() => {
          this.settleIdempotency(s, s.receipt!)
          this.fanOut.private(s, receiverSeq)
        })
      } else {
        batch.message({ msgId, conversationId: s.conversationId, conversationSeq, senderId: s.senderId, receiverId: null, msgType: MsgType.GROUP, contentType, content: s.content, clientSeq: f.clientSeq, time })
        batch.conversationMessage(s.conversationId, conversationSeq, msgId)
        batch.senderSeen(s.senderId, s.conversationId, conversationSeq)
        s.receipt = { msgId, conversationId: s.conversationId, conversationSeq, userSeq: 0, time }
        after.push(() => {
          this.settleIdempotency(s, s.receipt!)
          this.fanOut.group(s)
        })
      }
    }
  }

  /** Records the receipt for repeats and answers the sender and any repeat that arrived meanwhile. */
  private settleIdempotency (s: Send, receipt: Receipt): void {
    const entry = this.idempotency.get(s.key, Date.now()) ?? this.idempotency.begin(s.key, Date.now())
    entry.receipt = receipt
    const frame = receiptFrame(s.frame.clientSeq, receipt)
    this.out.toConn(s.connId, frame)
    observe(this.sendLatency, (performance.now() - s.at) / 1000)
    if (entry.waiting !== null) for (const conn of entry.waiting) this.out.toConn(conn, frame)
    entry.waiting = null
  }

  /** A 2004 or 2005 item, checked at decode. */
  private ack (userId: string, msgId: string, batch: WriteBatch): void {
    this.resends.acknowledged(msgId, userId)
    batch.markDelivered(userId, msgId)
  }

  private async applyCall (call: Call, reply: (r: CallReply) => void, batch: WriteBatch, after: (() => void)[]): Promise<void> {
    try {
      const value = await this.runCall(call, batch, after)
      after.push(() => reply({ t: 'reply', id: call.id, ok: true, value }))
    } catch (err) {
      if (!(err instanceof AppError)) throw err
      reply({ t: 'reply', id: call.id, ok: false, status: err.status, message: err.message })
    }
  }

  private async runCall (call: Call, batch: WriteBatch, after: (() => void)[]): Promise<unknown> {
    switch (call.op) {
      case 'recall':
        return await this.recalls.fromCall(call.args, batch, after)
      case 'members.add':
        return await this.groups.add(call.args.conversationId, call.args.actor, call.args.userIds, this.announcer(batch, after))
      case 'members.remove':
        return await this.groups.remove(call.args.conversationId, call.args.actor, call.args.userId, this.announcer(batch, after))
      case 'group.update':
        return await this.groups.update(call.args.conversationId, call.args.actor, call.args.settings, this.announcer(batch, after))
      case 'group.admin':
        return await this.groups.setAdmin(call.args.conversationId, call.args.actor, call.args.userId, call.args.admin, this.announcer(batch, after))
      case 'group.transfer':
        return await this.groups.transfer(call.args.conversationId, call.args.actor, call.args.userId, this.announcer(batch, after))
      case 'group.mute':
        return await this.groups.mute(call.args.conversationId, call.args.actor, call.args.userId, call.args.until, this.announcer(batch, after))
      case 'group.muteAll':
        return await this.groups.muteAll(call.args.conversationId, call.args.actor, call.args.muted, this.announcer(batch, after))
      case 'group.dismiss':
        return await this.groups.dismiss(call.args.conversationId, call.args.actor, this.announcer(batch, after))
      case 'group.forget':
        // Applied at the start of the cycle (see cycle()).
        return null
    }
  }

  /**
   * How GroupAdmin records a change: a system message (contentType 99) from the actor in the group's own
   * stream, numbered now and committed with this batch; after the commit, its 1007 goes to the members
   * (as they are now) and to `alsoTell`.
   */
  private announcer (batch: WriteBatch, after: (() => void)[]): Announce {
    return async (group, event, text, alsoTell) => {
      const conversationId = group.conversationId
      const [conversationSeq] = await this.seq.allocate([conversationSeqKey(conversationId)])
      const msgId = this.ids.next()
      const time = Date.now()
      batch.message({ msgId, conversationId, conversationSeq: conversationSeq!, senderId: event.actorId, receiverId: null, msgType: MsgType.GROUP, contentType: SYSTEM_CONTENT_TYPE, content: JSON.stringify({ ...event, text }), clientSeq: `system-${msgId}`, time })
      batch.conversationMessage(conversationId, conversationSeq!, msgId)
      batch.senderSeen(event.actorId, conversationId, conversationSeq!)
      const recipients = [...group.members, ...alsoTell].filter(this.reachable)
      after.push(() => {
        if (recipients.length === 0) return
        this.out.toMembers(recipients, encodeFrame({
          type: MessageType.GROUP_MESSAGE_NOTIFICATION,
          uid: msgId,
          fromId: event.actorId,
          conversationId,
          conversationSeq: conversationSeq!,
          seq: String(conversationSeq),
          content: preview(text),
          contentType: SYSTEM_CONTENT_TYPE,
          timestamp: time
        }))
      })
      return { msgId, conversationSeq: conversationSeq! }
    }
  }

  private async shareReceipts (sends: Send[]): Promise<void> {
    try {
      await this.options.receipts.remember(sends.map(s => [s.senderId, s.frame.clientSeq, s.receipt!] as const))
    } catch (err) {
      // The messages are committed and answered; only a cross-host repeat could now be stored twice.
      this.log.warn({ err: (err as Error).message }, 'receipts not shared with other hosts')
    }
  }

  /** Whom a group notification goes to: members online here, or every member in cluster mode (pub/sub finds them). */
  private readonly reachable = (userId: string): boolean => this.options.cluster || this.online.has(userId)

  /** A push another host sent here for delivery: this host resends it until the user ACKs. */
  track (userId: string, msgId: string, frame: Uint8Array): void {
    if (!this.online.has(userId)) return
    this.resends.track(msgId, userId, frame)
  }

  private failCycle (err: unknown, items: Inbound[], calls: { call: Call, reply: (r: CallReply) => void }[]): void {
    // A send whose (sender, clientSeq) is already stored, unseen by the in-memory window (a clientSeq
    // reused after 5 minutes, or a copy stored through another host): the whole batch rolled back.
    // Run its frames again once, checking every send against the database, so the repeat gets its
    // original receipt and the others in the batch are stored, not refused for someone else's repeat.
    if ((err as { code?: string } | null | undefined)?.code === UNIQUE_VIOLATION && items.every(i => i.retried !== true)) {
      this.log.warn({ frames: items.length }, 'a batch met a stored copy of one of its sends; checking it against the database')
      for (const item of items) this.forgetInFlight(item)
      this.queue = [...items.map((i): Inbound => ({ ...i, retried: true })), ...this.queue]
      this.calls = calls.concat(this.calls)
      return
    }
    const status = err instanceof AppError ? err.status : Status.UNAVAILABLE
    const reason = err instanceof AppError ? err.message : 'storage unavailable, retry with the same clientSeq'
    this.log.error({ err, frames: items.length }, 'shard cycle failed; senders were told to retry')
    for (const item of items) {
      if (this.forgetInFlight(item)) {
        this.out.toConn(item.connId, deliveryFailed({ clientSeq: item.frame.clientSeq }, status, reason))
      }
    }
    for (const { call, reply } of calls) reply({ t: 'reply', id: call.id, ok: false, status, message: reason })
  }

  /** Drops the in-flight idempotency entry of a send that was not stored; false for other frames. */
  private forgetInFlight (item: Inbound): boolean {
    const type = item.frame.type
    if (type !== MessageType.PRIVATE_CHAT && type !== MessageType.GROUP_CHAT) return false
    const key = IdempotencyCache.key(item.userId, item.frame.clientSeq)
    const entry = this.idempotency.get(key, Date.now())
    if (entry !== undefined && entry.receipt !== null) return false
    this.idempotency.forget(key)
    return true
  }

  private refuse (connId: number, clientSeq: string, refusal: Refusal): null {
    this.out.toConn(connId, deliveryFailed({ clientSeq }, refusal.status, refusal.reason))
    return null
  }
}

/** Every file id the cycle's media messages name (files and thumbnails). */
function namedFiles (sends: readonly Send[]): string[] {
  const ids: string[] = []
  for (const s of sends) {
    if (s.media === null) continue
    ids.push(s.media.fileId)
    if (s.media.thumbnailId !== null) ids.push(s.media.thumbnailId)
  }
  return ids
}
