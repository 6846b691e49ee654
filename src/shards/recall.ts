import type { Sql } from '../db/connect.js'
import { AppError, Status } from '../errors.js'
import { encodeFrame, MessageType, isMsgId, parseConversationId } from '@implus/client/wire'
import { deliveryFailed } from '../messages/refusals.js'
import type { WriteBatch } from './write-batch.js'
import { MsgStatus } from '../db/schema.js'
import type { MemberCache } from './members.js'
import type { Outbox } from './outbox.js'

/** What deciding a recall needs to know about a message. */
interface RecallTarget {
  readonly msgId: string
  readonly conversationId: string
  readonly senderId: string
  readonly status: number
  /** Epoch ms. */
  readonly sentAt: number
}

async function loadRecallTargets (sql: Sql, msgIds: string[]): Promise<Map<string, RecallTarget>> {
  const rows = await sql<RecallTarget[]>`
    select msg_id as "msgId", conversation_id as "conversationId", sender_id as "senderId", status,
           extract(epoch from send_time) * 1000 as "sentAt"
    from message where msg_id = any(${sql.array(msgIds)}::text[]::bigint[])`
  return new Map(rows.map(r => [r.msgId, { ...r, sentAt: Number(r.sentAt) }]))
}

/**
 * The message, when this user may recall it now: only its sender, within the
 * window; otherwise throws the AppError to answer with. Recalling a recalled
 * message again is allowed (and changes nothing), so a retried recall gets
 * the same answer.
 */
function recallable (target: RecallTarget | undefined, userId: string, now: number, windowMs: number): RecallTarget {
  if (target === undefined) throw new AppError(Status.NOT_FOUND, 'unknown message')
  if (target.senderId !== userId) throw new AppError(Status.FORBIDDEN, 'only the sender may recall a message')
  if (target.status !== MsgStatus.RECALLED && now - target.sentAt > windowMs) {
    throw new AppError(Status.FORBIDDEN, `the recall window of ${Math.round(windowMs / 1000)} s has passed`)
  }
  return target
}

/** A recall request: a 2009 frame (answered on its connection when refused) or an HTTP call. */
export interface RecallRequest {
  readonly userId: string
  readonly msgId: string
}

/**
 * Recalls (2009 and POST .../recall): the sender, within the window, empties a
 * message; once the batch has committed, both sides of a private conversation,
 * or the group's reachable members, get 1010.
 */
export class Recalls {
  constructor (
    private readonly sql: Sql,
    private readonly out: Outbox,
    private readonly members: MemberCache,
    /** Members a group notification goes to: those online here, or all of them in cluster mode. */
    private readonly reachable: (userId: string) => boolean,
    private readonly windowMs: number
  ) {}

  /** 2009 frames of one cycle: one lookup for all; a refusal answers its connection with 1006. */
  async fromFrames (requests: (RecallRequest & { readonly connId: number })[], batch: WriteBatch, after: (() => void)[]): Promise<void> {
    const valid = requests.filter(r => isMsgId(r.msgId))
    if (valid.length === 0) return
    const found = await loadRecallTargets(this.sql, valid.map(r => r.msgId))
    for (const { userId, connId, msgId } of valid) {
      try {
        this.stage(recallable(found.get(msgId), userId, Date.now(), this.windowMs), batch, after)
      } catch (err) {
        if (!(err instanceof AppError)) throw err
        this.out.toConn(connId, deliveryFailed({ uid: msgId }, err.status, err.message))
      }
    }
  }

  /** The HTTP API's recall: a refusal throws its AppError. */
  async fromCall ({ userId, msgId }: RecallRequest, batch: WriteBatch, after: (() => void)[]): Promise<{ msgId: string, conversationId: string }> {
    const target = recallable((await loadRecallTargets(this.sql, [msgId])).get(msgId), userId, Date.now(), this.windowMs)
    this.stage(target, batch, after)
    return { msgId, conversationId: target.conversationId }
  }

  private stage (target: RecallTarget, batch: WriteBatch, after: (() => void)[]): void {
    batch.recall(target.msgId)
    after.push(() => this.announce(target))
  }

  private announce (target: RecallTarget): void {
    const frame = encodeFrame({ type: MessageType.RECALL_NOTIFICATION, uid: target.msgId, conversationId: target.conversationId, fromId: target.senderId, timestamp: Date.now() })
    const parsed = parseConversationId(target.conversationId)
    if (parsed?.kind === 'private') {
      this.out.toUser(parsed.a, frame)
      this.out.toUser(parsed.b, frame)
      return
    }
    const group = this.members.get(target.conversationId)
    if (group === undefined) return
    const recipients = [...group.members].filter(this.reachable)
    // 1010 carries no per-member field, so toMembers' appended toId is harmless and names the recipient.
    if (recipients.length > 0) this.out.toMembers(recipients, frame)
  }
}
