// What a client frame may say, checked completely in one place: the gateway routes on the peeked fields
// with these rules, and the shard checks the decoded frame with the same rules where it decodes it, so a
// frame the two read differently (a field sent with the wrong wire type) is refused alone, never failing
// the batch it would have joined.
import { MessageType, type DecodedFrame, isGroupId, isMsgId, isUserId, parseConversationId, privateConversationId, groupConversationId } from '@implus/client/wire'
import { Status } from '../errors.js'
import { contentRefusal, type Refusal } from './rules.js'

/** Items one 2005 or 2006 frame may carry (the SDK batches 100). */
export const MAX_ACK_ITEMS = 100
const CLIENT_SEQ_MAX = 64
const SEQ_TEXT = /^\d{1,16}$/

export interface GroupAckItem { readonly conversationId: string, readonly seq: number }

const bad = (reason: string): Refusal => ({ status: Status.BAD_REQUEST, reason })

export function isRefusal (value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'status' in value && 'reason' in value
}

/** A chat frame's conversation, from its toId and conversationId, or why it has none. */
export function chatConversation (type: number, userId: string, toId: string, conversationId: string): string | Refusal {
  if (type === MessageType.PRIVATE_CHAT) {
    if (!isUserId(toId)) return bad('toId must be a user id')
    if (toId === userId) return bad('cannot send a private message to yourself')
    const id = privateConversationId(userId, toId)
    if (conversationId !== '' && conversationId !== id) return bad(`conversationId must be ${id}`)
    return id
  }
  const groupId = toId !== '' ? toId : parseConversationId(conversationId)?.kind === 'group' ? conversationId.slice(6) : ''
  if (!isGroupId(groupId)) return bad('toId must be a group id or conversationId group_{id}')
  const id = groupConversationId(groupId)
  if (conversationId !== '' && conversationId !== id) return bad('toId and conversationId disagree')
  return id
}

/** clientSeq and content of a decoded chat frame (PostgreSQL text cannot hold NUL). */
export function sendFieldsRefusal (frame: DecodedFrame): Refusal | null {
  const clientSeq = frame.clientSeq
  if (clientSeq.length === 0 || clientSeq.length > CLIENT_SEQ_MAX) return bad('clientSeq must be 1 to 64 characters')
  if (clientSeq.includes('\u0000')) return bad('clientSeq may not contain NUL characters')
  return contentRefusal(frame.content, frame.contentType)
}

/** 2005's content: distinct message ids separated by commas, at most MAX_ACK_ITEMS. */
export function parseMsgIds (content: string): string[] | Refusal {
  const items = splitItems(content)
  if (isRefusal(items)) return items
  const ids = new Set<string>()
  for (const item of items) {
    if (!isMsgId(item)) return bad(`not a message id: ${quote(item)}`)
    ids.add(item)
  }
  return [...ids]
}

/** 2006's content: `group_{id}:seq` items separated by commas, at most MAX_ACK_ITEMS; the highest seq per group. */
export function parseGroupAcks (content: string): GroupAckItem[] | Refusal {
  const items = splitItems(content)
  if (isRefusal(items)) return items
  const highest = new Map<string, number>()
  for (const item of items) {
    const colon = item.lastIndexOf(':')
    const conversationId = item.slice(0, colon)
    const seqText = item.slice(colon + 1)
    if (colon < 0 || parseConversationId(conversationId)?.kind !== 'group' || !SEQ_TEXT.test(seqText)) return bad(`not a group_{id}:seq item: ${quote(item)}`)
    const seq = Number(seqText)
    if (!Number.isSafeInteger(seq)) return bad(`seq out of range: ${quote(item)}`)
    if ((highest.get(conversationId) ?? -1) < seq) highest.set(conversationId, seq)
  }
  return [...highest].map(([conversationId, seq]) => ({ conversationId, seq }))
}

/** 2008's readReceipt: a conversation id and a positive lastReadSeq. */
export function readReceiptRefusal (frame: DecodedFrame): Refusal | null {
  const receipt = frame.readReceipt
  if (receipt === null || receipt === undefined || parseConversationId(receipt.conversationId) === null) return bad('readReceipt.conversationId must be a conversation id')
  const seq = receipt.lastReadSeq
  if (!Number.isSafeInteger(seq) || seq <= 0) return bad('readReceipt.lastReadSeq must be a positive integer')
  return null
}

function splitItems (content: string): string[] | Refusal {
  const items: string[] = []
  // Counted while splitting: a frame of a million commas stops at the first item over the cap.
  let start = 0
  while (start <= content.length) {
    let end = content.indexOf(',', start)
    if (end < 0) end = content.length
    const item = content.slice(start, end).trim()
    if (item !== '') {
      if (items.length === MAX_ACK_ITEMS) return bad(`at most ${MAX_ACK_ITEMS} items per frame`)
      items.push(item)
    }
    start = end + 1
  }
  if (items.length === 0) return bad('content must list items separated by commas')
  return items
}

/** An offending item in an error text: at most 40 characters of it, control characters escaped. */
function quote (item: string): string {
  return JSON.stringify(item.length > 40 ? `${item.slice(0, 40)}…` : item)
}
