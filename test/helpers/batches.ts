// A private message as a shard writes it into a WriteBatch: the message, both users' message lists, the
// conversation's list, and both users' conversation-list entries (the receiver's gains one unread).
import type { WriteBatch } from '../../src/shards/write-batch.js'
import { MsgType } from '../../src/db/schema.js'

export function addPrivateMessage (batch: WriteBatch, m: { msgId: string, sender: string, receiver: string, seq: number, time: number }): void {
  const conversationId = `private_${m.sender}_${m.receiver}`
  batch.message({ msgId: m.msgId, conversationId, conversationSeq: m.seq, senderId: m.sender, receiverId: m.receiver, msgType: MsgType.PRIVATE, contentType: 1, content: `content of ${m.msgId}`, clientSeq: `client-${m.msgId}`, time: m.time })
  batch.userMessage(m.sender, m.seq, m.msgId, conversationId)
  batch.userMessage(m.receiver, m.seq, m.msgId, conversationId)
  batch.conversationMessage(conversationId, m.seq, m.msgId)
  batch.touchUserConversation(m.sender, conversationId, m.msgId, m.time, 0)
  batch.touchUserConversation(m.receiver, conversationId, m.msgId, m.time, 1)
}
