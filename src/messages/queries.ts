import type { Sql } from '../db/connect.js'
import { ConvType, MsgStatus, MsgType } from '../db/schema.js'
import { forbidden, notFound } from '../errors.js'
import { parseConversationId, peerOf, type ConversationSummary, type MessageInfo, type MessageStatus } from '@implus/client/wire'

export type { ConversationSummary, MessageInfo }

/**
 * The read side of messages and conversations: what pulls, sync and read
 * counts need, straight from PostgreSQL on the main thread. Writes never
 * happen here (they belong to the conversation's shard).
 */

interface MessageRow {
  msgId: string
  userSeq?: string
  conversationSeq: string
  conversationId: string
  senderId: string
  receiverId: string | null
  /** The database's smallint columns hold only these values (write-batch.ts writes them). */
  msgType: MessageInfo['msgType']
  contentType: number
  content: string
  status: MessageStatus
  sendTime: Date
}

function toInfo (r: MessageRow, seq: number): MessageInfo {
  const group = r.msgType === MsgType.GROUP
  const recalled = r.status === MsgStatus.RECALLED
  return {
    msgId: r.msgId,
    seq,
    conversationSeq: Number(r.conversationSeq),
    conversationId: r.conversationId,
    fromUserId: r.senderId,
    toUserId: group ? null : r.receiverId,
    groupId: group ? r.conversationId.slice(6) : null,
    msgType: r.msgType,
    contentType: r.contentType,
    content: recalled ? '' : r.content,
    status: r.status,
    createTime: r.sendTime.toISOString()
  }
}

/** The caller's messages with userSeq ≥ fromSeq, ascending; `more` is exact (one extra row is read). */
export async function pullByUserSeq (sql: Sql, userId: string, fromSeq: number, limit: number): Promise<{ messages: MessageInfo[], more: boolean }> {
  const rows = await sql<MessageRow[]>`
    select m.msg_id as "msgId", l.seq as "userSeq", m.conversation_seq as "conversationSeq", m.conversation_id as "conversationId",
           m.sender_id as "senderId", m.receiver_id as "receiverId", m.msg_type as "msgType", m.content_type as "contentType",
           m.content, m.status, m.send_time as "sendTime"
    from user_msg_list l join message m on m.msg_id = l.msg_id
    where l.user_id = ${userId} and l.seq >= ${fromSeq}
    order by l.seq
    limit ${limit + 1}`
  const more = rows.length > limit
  const messages = (more ? rows.slice(0, limit) : rows).map(r => toInfo(r, Number(r.userSeq)))
  return { messages, more }
}

/** One conversation's messages by conversationSeq from startSeq to endSeq (inclusive, null: no end), ascending. */
export async function pullByConversationSeq (
  sql: Sql, conversationId: string, startSeq: number, endSeq: number | null, limit: number
): Promise<{ messages: MessageInfo[], more: boolean }> {
  const rows = await sql<MessageRow[]>`
    select m.msg_id as "msgId", m.conversation_seq as "conversationSeq", m.conversation_id as "conversationId",
           m.sender_id as "senderId", m.receiver_id as "receiverId", m.msg_type as "msgType", m.content_type as "contentType",
           m.content, m.status, m.send_time as "sendTime"
    from message m
    where m.conversation_id = ${conversationId} and m.conversation_seq >= ${startSeq} and m.conversation_seq <= ${endSeq ?? Number.MAX_SAFE_INTEGER}
    order by m.conversation_seq limit ${limit + 1}`
  const more = rows.length > limit
  const messages = (more ? rows.slice(0, limit) : rows).map(r => toInfo(r, Number(r.conversationSeq)))
  return { messages, more }
}

/**
 * Several conversations at once: for each, up to `limit` messages with conversationSeq > its lastSeq,
 * ascending; `more` is true when any conversation has more than it returned.
 */
export async function pullConversations (
  sql: Sql, after: ReadonlyMap<string, number>, limit: number
): Promise<{ messages: Map<string, MessageInfo[]>, more: boolean }> {
  const ids = [...after.keys()]
  const seqs = ids.map(id => after.get(id)!)
  const messages = new Map<string, MessageInfo[]>(ids.map(id => [id, []]))
  if (ids.length === 0) return { messages, more: false }
  const rows = await sql<MessageRow[]>`
    select m.msg_id as "msgId", m.conversation_seq as "conversationSeq", m.conversation_id as "conversationId",
           m.sender_id as "senderId", m.receiver_id as "receiverId", m.msg_type as "msgType", m.content_type as "contentType",
           m.content, m.status, m.send_time as "sendTime"
    from unnest(${sql.array(ids)}::text[], ${sql.array(seqs)}::text[]::bigint[]) as k(conv, after)
    cross join lateral (
      select * from message x where x.conversation_id = k.conv and x.conversation_seq > k.after
      order by x.conversation_seq limit ${limit + 1}
    ) m
    order by m.conversation_id, m.conversation_seq`
  let more = false
  for (const r of rows) {
    const list = messages.get(r.conversationId)!
    if (list.length === limit) {
      more = true
      continue
    }
    list.push(toInfo(r, Number(r.conversationSeq)))
  }
  return { messages, more }
}

/** Latest conversationSeq of each conversation (0 when it has no message yet or does not exist). */
export async function latestSeqs (sql: Sql, conversationIds: readonly string[]): Promise<Map<string, number>> {
  const result = new Map<string, number>(conversationIds.map(id => [id, 0]))
  if (conversationIds.length === 0) return result
  const rows = await sql<{ conv: string, seq: string }[]>`
    select conversation_id as conv, last_seq as seq from conversation
    where conversation_id = any(${sql.array([...conversationIds])}::text[])`
  for (const r of rows) result.set(r.conv, Number(r.seq))
  return result
}

/** The subset of the given group conversations the user belongs to. */
export async function memberGroups (sql: Sql, userId: string, conversationIds: readonly string[]): Promise<Set<string>> {
  if (conversationIds.length === 0) return new Set()
  const rows = await sql<{ conv: string }[]>`
    select conversation_id as conv from group_members
    where user_id = ${userId} and conversation_id = any(${sql.array([...conversationIds])}::text[])`
  return new Set(rows.map(r => r.conv))
}

/**
 * Membership of one conversation: a private one's members are the two users
 * in its id, a group's are its group_members rows.
 * Returns 'member', 'outsider', or 'unknown' (no such group; malformed ids are 'unknown' too).
 */
export async function membership (sql: Sql, userId: string, conversationId: string): Promise<'member' | 'outsider' | 'unknown'> {
  const parsed = parseConversationId(conversationId)
  if (parsed === null) return 'unknown'
  if (parsed.kind === 'private') return peerOf(parsed, userId) === null ? 'outsider' : 'member'
  const rows = await sql<{ member: boolean }[]>`
    select exists (select 1 from group_members where conversation_id = ${conversationId} and user_id = ${userId}) as member
    from conversation where conversation_id = ${conversationId} and type = 1`
  if (rows.length === 0) return 'unknown'
  return rows[0]!.member ? 'member' : 'outsider'
}

/** Members only: 404 for a conversation that does not exist, 403 for anyone outside it. */
export async function requireMember (sql: Sql, userId: string, conversationId: string): Promise<void> {
  const m = await membership(sql, userId, conversationId)
  if (m === 'unknown') throw notFound(`conversation ${conversationId} does not exist`)
  if (m === 'outsider') throw forbidden(`not a member of ${conversationId}`)
}

/** Members of a group in join order. */
export async function groupMembers (sql: Sql, conversationId: string): Promise<string[]> {
  const rows = await sql<{ userId: string }[]>`
    select user_id as "userId" from group_members where conversation_id = ${conversationId} order by join_time, user_id`
  return rows.map(r => r.userId)
}

/** A message's conversation facts, null if there is no such message. */
export async function messageHeader (sql: Sql, msgId: string): Promise<{ conversationId: string, conversationSeq: number, senderId: string, receiverId: string | null, msgType: number } | null> {
  const rows = await sql<{ conversationId: string, conversationSeq: string, senderId: string, receiverId: string | null, msgType: number }[]>`
    select conversation_id as "conversationId", conversation_seq as "conversationSeq", sender_id as "senderId",
           receiver_id as "receiverId", msg_type as "msgType"
    from message where msg_id = ${msgId}`
  const r = rows[0]
  return r === undefined ? null : { ...r, conversationSeq: Number(r.conversationSeq) }
}

/**
 * How many have read a message: group, the members other than its sender whose read point reached
 * its conversationSeq; private, 1 when the receiver's read point reached it, else 0.
 */
export async function readCount (sql: Sql, msg: { conversationId: string, conversationSeq: number, senderId: string, receiverId: string | null, msgType: number }): Promise<number> {
  if (msg.msgType === MsgType.GROUP) return await groupReadCount(sql, msg.conversationId, msg.senderId, msg.conversationSeq)
  if (msg.receiverId === null) return 0
  const rows = await sql`
    select 1 from user_conversation_list
    where user_id = ${msg.receiverId} and conversation_id = ${msg.conversationId} and last_read_seq >= ${msg.conversationSeq}`
  return rows.length > 0 ? 1 : 0
}

/**
 * A group message's read count, the one definition (GET .../read-count and the 1008 to its sender):
 * the current members other than the sender whose read point reached its conversationSeq.
 */
export async function groupReadCount (sql: Sql, conversationId: string, senderId: string, conversationSeq: number): Promise<number> {
  const rows = await sql<{ n: string }[]>`
    select count(*) as n from group_members g
    join user_conversation_list l on l.user_id = g.user_id and l.conversation_id = g.conversation_id
    where g.conversation_id = ${conversationId} and g.user_id <> ${senderId} and l.last_read_seq >= ${conversationSeq}`
  return Number(rows[0]?.n ?? 0)
}

interface SummaryRow {
  conversationId: string
  type: ConversationSummary['conversationType']
  name: string | null
  unread: number
  total: string | null
  lastMsgId: string | null
  content: string | null
  contentType: number | null
  status: number | null
  sender: string | null
  sendTime: Date | null
  lastSeq: string
  lastReadSeq: string
}

/**
 * The user's conversations, newest first (a group by its last message, a private one by the user's
 * entry), with unread counts: private from the maintained counter, group = latest seq − sync point.
 * `total` is the unread sum over all of the user's conversations, not only the returned ones.
 */
export async function conversationSummaries (sql: Sql, userId: string, limit: number): Promise<{ conversations: ConversationSummary[], totalUnread: number }> {
  const rows = await sql<SummaryRow[]>`
    select s.*, sum(s.unread) over () as total from (
      select l.conversation_id as "conversationId", c.type,
             case when c.type = 1 then c.name else pu.username end as name,
             (case when c.type = 1 then greatest(c.last_seq - l.sync_seq, 0) else greatest(l.unread_count, 0) end)::int as unread,
             c.last_msg_id as "lastMsgId", m.content, m.content_type as "contentType", m.status, m.sender_id as sender, m.send_time as "sendTime",
             c.last_seq as "lastSeq", l.last_read_seq as "lastReadSeq",
             coalesce(case when c.type = 1 then c.last_msg_time end, l.last_update_time, c.create_time) as sort_time
      from user_conversation_list l
      join conversation c on c.conversation_id = l.conversation_id
      left join message m on m.msg_id = c.last_msg_id
      left join users pu on pu.user_id = (case
        when c.type <> 0 then null
        when split_part(l.conversation_id, '_', 2)::bigint = l.user_id then split_part(l.conversation_id, '_', 3)::bigint
        else split_part(l.conversation_id, '_', 2)::bigint end)
      where l.user_id = ${userId}
    ) s
    order by s.sort_time desc nulls last, s."conversationId"
    limit ${limit}`
  const conversations = rows.map(r => {
    const parsed = r.type === ConvType.PRIVATE ? parseConversationId(r.conversationId) : null
    const peer = parsed?.kind === 'private' ? peerOf(parsed, userId) : null
    return {
      conversationId: r.conversationId,
      conversationType: r.type,
      conversationName: r.name ?? peer ?? '',
      unreadCount: Number(r.unread),
      lastMsgId: r.lastMsgId,
      lastMsgContent: r.lastMsgId === null ? null : (r.status === MsgStatus.RECALLED ? '' : r.content ?? ''),
      lastMsgContentType: r.lastMsgId === null ? null : r.contentType,
      lastMsgSender: r.sender,
      lastMsgTime: r.sendTime?.toISOString() ?? null,
      lastSeq: Number(r.lastSeq),
      lastReadSeq: Number(r.lastReadSeq)
    }
  })
  const totalUnread = Number(rows[0]?.total ?? 0)
  return { conversations, totalUnread }
}
