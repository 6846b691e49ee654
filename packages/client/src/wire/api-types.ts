/** Shapes the HTTP API sends (docs/protocol.md): 64-bit ids as strings, seqs as numbers, times ISO 8601. Server and client share them. */

/** 0 sent, 1 delivered, 2 read, 3 recalled (content empty), 4 push failed. */
export type MessageStatus = 0 | 1 | 2 | 3 | 4

export interface MessageInfo {
  msgId: string
  /** The caller's userSeq in pull-batch, the conversationSeq elsewhere. */
  seq: number
  conversationSeq: number
  conversationId: string
  fromUserId: string
  toUserId: string | null
  groupId: string | null
  /** 1 private, 2 group. */
  msgType: 1 | 2
  /** 1 text, 2 image, 3 file, 4 voice, 5 video, 6 location, 99 system. */
  contentType: number
  content: string
  status: MessageStatus
  /** ISO 8601. */
  createTime: string
}

/** One entry of POST /api/conversations/sync. */
export interface ConversationSummary {
  conversationId: string
  /** 0 private, 1 group. */
  conversationType: 0 | 1
  conversationName: string
  unreadCount: number
  lastMsgId: string | null
  lastMsgContent: string | null
  lastMsgSender: string | null
  lastMsgTime: string | null
  lastSeq: number
  lastReadSeq: number
}
