import type { Sql } from '../db/connect.js'
import type { Logger } from '../log.js'
import { encodeFrame, MessageType, type DecodedFrame, parseConversationId, peerOf } from '@implus/client/wire'
import { Status } from '../errors.js'
import { errorFrame } from '../messages/refusals.js'
import { groupReadCount } from '../messages/queries.js'
import type { MemberCache } from './members.js'
import type { Outbox } from './outbox.js'
import type { WriteBatch } from './write-batch.js'

export interface ReadStateDeps {
  readonly sql: Sql
  readonly out: Outbox
  readonly members: MemberCache
  readonly log: Logger
  /** True for conversations this shard owns: a group ACK may name any conversation. */
  readonly owns: (conversationId: string) => boolean
  /** Groups up to this size tell a message's sender how many members have read it (1008). */
  readonly groupReadReceiptMaxMembers: number
}

/**
 * Where each user stands in each conversation: read receipts (2003) move the
 * read point and tell the other side (1008), group ACKs (2006) move a member's
 * sync point. Changes are staged in the cycle's batch; notifications wait in
 * `after` until it has committed. Group members must be loaded by then.
 */
export class ReadState {
  constructor (private readonly deps: ReadStateDeps) {}

  /** 2006: `conversationId:seq` items, comma-separated; the well-formed ones for groups this shard owns. */
  ownedAcks (frame: DecodedFrame): { conversationId: string, seq: number }[] {
    const acks: { conversationId: string, seq: number }[] = []
    for (const item of frame.content.split(',')) {
      const colon = item.lastIndexOf(':')
      const conversationId = item.slice(0, colon).trim()
      const seq = Number(item.slice(colon + 1))
      if (Number.isSafeInteger(seq) && seq >= 0 && conversationId.startsWith('group_') && this.deps.owns(conversationId)) acks.push({ conversationId, seq })
    }
    return acks
  }

  /** 2006 from a member moves its sync point; acks for groups it is not in are skipped. */
  groupAck (userId: string, frame: DecodedFrame, batch: WriteBatch): void {
    for (const { conversationId, seq } of this.ownedAcks(frame)) {
      if (this.deps.members.get(conversationId)?.members.has(userId) === true) batch.groupAck(userId, conversationId, seq)
    }
  }

  /** 2003: the reader's read point moves up; the peer (private) or the message's sender (small group) hears of it. */
  read (userId: string, connId: number, frame: DecodedFrame, batch: WriteBatch, after: (() => void)[]): void {
    const { out } = this.deps
    const conversationId = frame.readReceipt?.conversationId ?? ''
    const seq = frame.readReceipt?.lastReadSeq ?? 0
    const parsed = parseConversationId(conversationId)
    if (parsed === null || !Number.isSafeInteger(seq) || seq <= 0) {
      out.toConn(connId, errorFrame(Status.BAD_REQUEST, 'readReceipt needs a conversationId and a positive lastReadSeq'))
      return
    }
    if (parsed.kind === 'private') {
      const peer = peerOf(parsed, userId)
      if (peer === null) return
      batch.read(userId, conversationId, seq, false)
      after.push(() => out.toUser(peer, encodeFrame({
        type: MessageType.MESSAGE_READ_NOTIFICATION,
        fromId: userId,
        conversationId,
        timestamp: Date.now(),
        readNotification: { conversationId, lastReadSeq: seq }
      })))
      return
    }
    const group = this.deps.members.get(conversationId)
    if (group === null || group === undefined || !group.members.has(userId)) return
    batch.read(userId, conversationId, seq, true)
    if (group.members.size <= this.deps.groupReadReceiptMaxMembers) after.push(() => void this.notifyGroupRead(userId, conversationId, seq))
  }

  /** 1008 to the sender of the message a member has read up to, with how many members have read it. */
  private async notifyGroupRead (reader: string, conversationId: string, seq: number): Promise<void> {
    const { sql, out, log } = this.deps
    try {
      const [row] = await sql<{ msgId: string, sender: string }[]>`
        select msg_id as "msgId", sender_id as sender from message where conversation_id = ${conversationId} and conversation_seq = ${seq}`
      if (row === undefined || row.sender === reader) return
      const readers = await groupReadCount(sql, conversationId, row.sender, seq)
      out.toUser(row.sender, encodeFrame({
        type: MessageType.MESSAGE_READ_NOTIFICATION,
        fromId: reader,
        conversationId,
        timestamp: Date.now(),
        readNotification: { conversationId, msgId: row.msgId, readCount: readers }
      }))
    } catch (err) {
      log.warn({ err, conversationId }, 'group read notification failed')
    }
  }
}
