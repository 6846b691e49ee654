import type { Sql } from '../db/connect.js'
import type { Logger } from '../log.js'
import { encodeFrame, MessageType, type DecodedFrame, parseConversationId, peerOf } from '@implus/client/wire'
import { groupReadCount } from '../messages/queries.js'
import type { MemberCache } from './members.js'
import type { PermissionCache } from './permissions.js'
import type { Outbox } from './outbox.js'
import type { WriteBatch } from './write-batch.js'

export interface ReadStateDeps {
  readonly sql: Sql
  readonly out: Outbox
  readonly members: MemberCache
  /** The peer of a private read receipt: it must exist and not block the reader to hear of it. */
  readonly permissions: PermissionCache
  readonly log: Logger
  /** Groups up to this size tell a message's sender how many members have read it (1008). */
  readonly groupReadReceiptMaxMembers: number
}

/**
 * Where each user stands in each conversation: read receipts (2008) move the
 * read point and tell the other side (1008). Changes are staged in the cycle's batch; notifications wait in
 * `after` until it has committed. Group members, and a private peer with its
 * relation to the reader, must be loaded by then.
 */
export class ReadState {
  constructor (private readonly deps: ReadStateDeps) {}

  /** 2008 (checked at decode): the reader's read point moves up; the peer (private) or the message's sender (small group) hears of it. */
  read (userId: string, frame: DecodedFrame, batch: WriteBatch, after: (() => void)[]): void {
    const { out } = this.deps
    const { conversationId, lastReadSeq: seq } = frame.readReceipt!
    const parsed = parseConversationId(conversationId)!
    if (parsed.kind === 'private') {
      const peer = peerOf(parsed, userId)
      const { permissions } = this.deps
      // A private conversation names its reader; its read point is written only once the conversation exists
      // (WriteBatch), and the peer hears of it only if it exists and has not blocked the reader.
      if (peer === null || !permissions.user(peer).exists) return
      batch.read(userId, conversationId, seq, false)
      if (permissions.relation(peer, userId).blocked) return
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
    if (group === undefined || !group.members.has(userId)) return
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
