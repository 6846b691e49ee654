import type { Pending, Sql, Tx } from '../db/connect.js'

import { ConvType, MsgStatus, MsgType } from '../db/schema.js'

/**
 * Everything one shard cycle writes, in column arrays, committed atomically
 * (group commit) by fixed-text statements: `unnest` turns each array set into
 * rows, so the prepared statements are reused whatever the batch size.
 * Rows that touch the same key are merged first, because one INSERT ...
 * ON CONFLICT may not update a row twice.
 */
export class WriteBatch {
  // message
  private readonly mId: string[] = []
  private readonly mConv: string[] = []
  private readonly mSeq: number[] = []
  private readonly mSender: string[] = []
  private readonly mReceiver: (string | null)[] = []
  private readonly mType: number[] = []
  private readonly mContentType: number[] = []
  private readonly mContent: string[] = []
  private readonly mClientSeq: string[] = []
  private readonly mTime: number[] = []
  // user_msg_list
  private readonly uUser: string[] = []
  private readonly uSeq: number[] = []
  private readonly uMsg: string[] = []
  private readonly uConv: string[] = []
  // conversation_msg_list
  private readonly cConv: string[] = []
  private readonly cSeq: number[] = []
  private readonly cMsg: string[] = []
  // message_files: the files each new message refers to
  private readonly fFile: string[] = []
  private readonly fMsg: string[] = []
  // merged per key
  private readonly conversations = new Map<string, { type: number, lastMsgId: string, lastSeq: number, time: number }>()
  private readonly userConversations = new Map<string, { userId: string, conversationId: string, unread: number, lastMsgId: string, time: number }>()
  private readonly delivered: [string, string][] = []
  private readonly failed: [string, string][] = []
  private readonly reads = new Map<string, { userId: string, conversationId: string, seq: number, group: boolean }>()
  private readonly groupAcks = new Map<string, { userId: string, conversationId: string, seq: number }>()
  private readonly senderSyncs = new Map<string, { userId: string, conversationId: string, seq: number }>()
  private readonly recalls: string[] = []

  get messages (): number {
    return this.mId.length
  }

  get empty (): boolean {
    return this.mId.length === 0 && this.delivered.length === 0 && this.failed.length === 0 &&
      this.reads.size === 0 && this.groupAcks.size === 0 && this.recalls.length === 0 && this.senderSyncs.size === 0
  }

  message (m: { msgId: string, conversationId: string, conversationSeq: number, senderId: string, receiverId: string | null, msgType: number, contentType: number, content: string, clientSeq: string, time: number }): void {
    this.mId.push(m.msgId)
    this.mConv.push(m.conversationId)
    this.mSeq.push(m.conversationSeq)
    this.mSender.push(m.senderId)
    this.mReceiver.push(m.receiverId)
    this.mType.push(m.msgType)
    this.mContentType.push(m.contentType)
    this.mContent.push(m.content)
    this.mClientSeq.push(m.clientSeq)
    this.mTime.push(m.time)
    const conv = this.conversations.get(m.conversationId)
    if (conv === undefined) {
      this.conversations.set(m.conversationId, { type: m.msgType === MsgType.PRIVATE ? ConvType.PRIVATE : ConvType.GROUP, lastMsgId: m.msgId, lastSeq: m.conversationSeq, time: m.time })
    } else {
      conv.lastMsgId = m.msgId
      conv.lastSeq = m.conversationSeq
      conv.time = m.time
    }
  }

  /** A new message refers to these uploaded files: they are kept, and its conversation may download them. */
  files (msgId: string, fileIds: readonly string[]): void {
    for (const fileId of fileIds) {
      this.fFile.push(fileId)
      this.fMsg.push(msgId)
    }
  }

  userMessage (userId: string, userSeq: number, msgId: string, conversationId: string): void {
    this.uUser.push(userId)
    this.uSeq.push(userSeq)
    this.uMsg.push(msgId)
    this.uConv.push(conversationId)
  }

  conversationMessage (conversationId: string, seq: number, msgId: string): void {
    this.cConv.push(conversationId)
    this.cSeq.push(seq)
    this.cMsg.push(msgId)
  }

  /** The user's conversation list entry moves to the top; `unread` adds to its unread count. */
  touchUserConversation (userId: string, conversationId: string, msgId: string, time: number, unread: number): void {
    const key = `${userId}:${conversationId}`
    const entry = this.userConversations.get(key)
    if (entry === undefined) this.userConversations.set(key, { userId, conversationId, unread, lastMsgId: msgId, time })
    else {
      entry.unread += unread
      entry.lastMsgId = msgId
      entry.time = time
    }
  }

  markDelivered (userId: string, msgId: string): void {
    this.delivered.push([userId, msgId])
  }

  markPushFailed (userId: string, msgId: string): void {
    this.failed.push([userId, msgId])
  }

  /** Read receipt: the reader's read point (and a group's sync point) moves up to seq. */
  read (userId: string, conversationId: string, seq: number, group: boolean): void {
    const key = `${userId}:${conversationId}`
    const entry = this.reads.get(key)
    if (entry === undefined || entry.seq < seq) this.reads.set(key, { userId, conversationId, seq, group })
  }

  groupAck (userId: string, conversationId: string, seq: number): void {
    keepHighest(this.groupAcks, userId, conversationId, seq)
  }

  /**
   * A group message's sender has seen it: its sync point moves to the seq just given, so its own
   * message never counts as unread. Unlike a client's ACK it needs no cap at the group's latest seq,
   * so it is written with the messages (in their one statement).
   */
  senderSeen (userId: string, conversationId: string, seq: number): void {
    keepHighest(this.senderSyncs, userId, conversationId, seq)
  }

  recall (msgId: string): void {
    this.recalls.push(msgId)
  }

  /**
   * Sends, deliveries and push failures (nearly every batch) go as one statement: writable CTEs make it
   * atomic without BEGIN/COMMIT, so it costs one write and one round trip instead of seven. Read
   * receipts, group ACKs and recalls touch rows that statement may also touch (a statement cannot see
   * its own CTEs' changes), so a batch with any of them runs as a transaction of ordered statements.
   */
  async commit (sql: Sql): Promise<void> {
    const messageWrites = this.mId.length > 0 || this.delivered.length > 0 || this.failed.length > 0 || this.senderSyncs.size > 0
    if (this.reads.size === 0 && this.groupAcks.size === 0 && this.recalls.length === 0) {
      if (messageWrites) await this.writeMessages(sql)
      return
    }
    await sql.begin(tx => {
      const statements: Pending[] = []
      if (messageWrites) statements.push(this.writeMessages(tx))
      if (this.reads.size > 0) {
        const rows = [...this.reads.values()]
        const users = tx.array(rows.map(r => r.userId))
        const convs = tx.array(rows.map(r => r.conversationId))
        const seqs = tx.array(rows.map(r => r.seq))
        const groups = tx.array(rows.map(r => r.group))
        statements.push(tx`
          update message m set status = ${MsgStatus.READ}, update_time = now()
          from unnest(${users}::text[]::bigint[], ${convs}::text[], ${seqs}::text[]::bigint[], ${groups}::bool[]) as r(u, conv, seq, g)
          where not r.g and m.conversation_id = r.conv and m.conversation_seq <= r.seq and m.sender_id <> r.u
            and m.status in (${MsgStatus.SENT}, ${MsgStatus.DELIVERED}, ${MsgStatus.PUSH_FAILED})`)
        statements.push(tx`
          insert into user_conversation_list as l (user_id, conversation_id, last_read_seq, sync_seq, unread_count, last_update_time)
          select r.u, r.conv, r.seq,
            -- A group's sync point never passes its latest seq (see groupAck below).
            case when r.g then least(r.seq, (select c.last_seq from conversation c where c.conversation_id = r.conv)) else 0 end, 0, now()
          from unnest(${users}::text[]::bigint[], ${convs}::text[], ${seqs}::text[]::bigint[], ${groups}::bool[]) as r(u, conv, seq, g)
          -- A read point only in a conversation that exists: a receipt naming any other writes nothing.
          where exists (select 1 from conversation c where c.conversation_id = r.conv)
          on conflict (user_id, conversation_id) do update set
            last_read_seq = greatest(l.last_read_seq, excluded.last_read_seq),
            sync_seq = greatest(l.sync_seq, excluded.sync_seq),
            -- Private conversations keep a counter; a group's unread is derived from its sync point instead.
            unread_count = case when l.conversation_id like 'group\_%' then 0 else
                             (select count(*) from message m where m.conversation_id = l.conversation_id
                              and m.conversation_seq > greatest(l.last_read_seq, excluded.last_read_seq) and m.sender_id <> l.user_id
                              and m.status <> ${MsgStatus.RECALLED}) end,
            update_time = now()`)
      }
      if (this.groupAcks.size > 0) {
        const rows = [...this.groupAcks.values()]
        // Membership is checked here, by the primary key, not through the shard's group cache: an ACK naming
        // groups its sender is not in (or that do not exist) loads and caches nothing and writes nothing,
        // and a sync point already there is not written again.
        statements.push(tx`
          insert into user_conversation_list as l (user_id, conversation_id, sync_seq)
          select r.u, r.conv, r.seq
          from unnest(${tx.array(rows.map(r => r.userId))}::text[]::bigint[], ${tx.array(rows.map(r => r.conversationId))}::text[],
                      ${tx.array(rows.map(r => r.seq))}::text[]::bigint[]) as r(u, conv, seq)
          where exists (select 1 from group_members g where g.conversation_id = r.conv and g.user_id = r.u)
          on conflict (user_id, conversation_id) do update set update_time = now(),
            -- An ACK beyond the group's latest seq would hide the next messages from the unread count.
            sync_seq = least(excluded.sync_seq, (select c.last_seq from conversation c where c.conversation_id = l.conversation_id))
          where l.sync_seq < least(excluded.sync_seq, (select c.last_seq from conversation c where c.conversation_id = l.conversation_id))`)
      }
      if (this.recalls.length > 0) {
        statements.push(tx`
          update message set status = ${MsgStatus.RECALLED}, content = '', update_time = now()
          where msg_id = any(${tx.array(this.recalls)}::text[]::bigint[])`)
      }
      return statements
    })
  }

  /**
   * New messages with their list rows, conversation and conversation-list upserts, senders' group sync
   * points, and receivers' delivery status, in one statement. Each CTE writes other rows than the rest: a delivery or push
   * failure is for a message committed by an earlier batch (its push follows that commit).
   */
  private writeMessages (q: Sql | Tx): Pending {
    const convs = [...this.conversations]
    const lists = [...this.userConversations.values()]
    const statuses = this.statusChanges()
    const syncs = [...this.senderSyncs.values()]
    return q`
      with new_messages as (
        insert into message (msg_id, conversation_id, conversation_seq, sender_id, receiver_id, msg_type, content_type, content, client_seq, send_time)
        select id, conv, seq, sender, receiver, typ, ctype, content, cseq, to_timestamp(ms / 1000.0)
        from unnest(${q.array(this.mId)}::text[]::bigint[], ${q.array(this.mConv)}::text[], ${q.array(this.mSeq)}::text[]::bigint[],
                    ${q.array(this.mSender)}::text[]::bigint[], ${q.array(this.mReceiver as string[])}::text[]::bigint[], ${q.array(this.mType)}::int2[],
                    ${q.array(this.mContentType)}::int2[], ${q.array(this.mContent)}::text[], ${q.array(this.mClientSeq)}::text[],
                    ${q.array(this.mTime)}::float8[])
          as t(id, conv, seq, sender, receiver, typ, ctype, content, cseq, ms)
      ), latest as (
        insert into conversation (conversation_id, type, member_count, last_msg_id, last_seq, last_msg_time)
        select conv, typ, case when typ = 0 then 2 else 0 end, msg, seq, to_timestamp(ms / 1000.0)
        from unnest(${q.array(convs.map(c => c[0]))}::text[], ${q.array(convs.map(c => c[1].type))}::int2[],
                    ${q.array(convs.map(c => c[1].lastMsgId))}::text[]::bigint[], ${q.array(convs.map(c => c[1].lastSeq))}::text[]::bigint[],
                    ${q.array(convs.map(c => c[1].time))}::float8[]) as t(conv, typ, msg, seq, ms)
        on conflict (conversation_id) do update set last_msg_id = excluded.last_msg_id, last_seq = excluded.last_seq,
          last_msg_time = excluded.last_msg_time, update_time = now()
        -- Maximised, never overwritten: a batch committing late (another host in cluster mode) must not move it back.
        where conversation.last_seq < excluded.last_seq
      ), user_lists as (
        insert into user_msg_list (user_id, seq, msg_id, conversation_id)
        select * from unnest(${q.array(this.uUser)}::text[]::bigint[], ${q.array(this.uSeq)}::text[]::bigint[], ${q.array(this.uMsg)}::text[]::bigint[], ${q.array(this.uConv)}::text[])
      ), conversation_lists as (
        insert into conversation_msg_list (conversation_id, seq, msg_id)
        select * from unnest(${q.array(this.cConv)}::text[], ${q.array(this.cSeq)}::text[]::bigint[], ${q.array(this.cMsg)}::text[]::bigint[])
      ), conversation_entries as (
        insert into user_conversation_list (user_id, conversation_id, unread_count, last_msg_id, last_update_time)
        select u, conv, n, msg, to_timestamp(ms / 1000.0)
        from unnest(${q.array(lists.map(r => r.userId))}::text[]::bigint[], ${q.array(lists.map(r => r.conversationId))}::text[],
                    ${q.array(lists.map(r => r.unread))}::int4[], ${q.array(lists.map(r => r.lastMsgId))}::text[]::bigint[],
                    ${q.array(lists.map(r => r.time))}::float8[]) as t(u, conv, n, msg, ms)
        on conflict (user_id, conversation_id) do update set
          unread_count = user_conversation_list.unread_count + excluded.unread_count,
          last_msg_id = excluded.last_msg_id, last_update_time = excluded.last_update_time, update_time = now()
      ), file_refs as (
        insert into message_files (file_id, msg_id)
        select * from unnest(${q.array(this.fFile)}::text[]::bigint[], ${q.array(this.fMsg)}::text[]::bigint[])
      ), sent_files as (
        update files set pending = false where file_id = any(${q.array(this.fFile)}::text[]::bigint[]) and pending
      ), sender_syncs as (
        -- Group rows only; conversation_entries holds private ones, so no row is written twice.
        insert into user_conversation_list as l (user_id, conversation_id, sync_seq)
        select * from unnest(${q.array(syncs.map(r => r.userId))}::text[]::bigint[], ${q.array(syncs.map(r => r.conversationId))}::text[],
                             ${q.array(syncs.map(r => r.seq))}::text[]::bigint[])
        on conflict (user_id, conversation_id) do update set sync_seq = greatest(l.sync_seq, excluded.sync_seq), update_time = now()
      ), delivery as (
        -- Delivery status is the receiver's: an ACK from anyone else (the sender's other devices) changes nothing.
        update message m set status = p.s, update_time = now()
        from unnest(${q.array(statuses.users)}::text[]::bigint[], ${q.array(statuses.msgIds)}::text[]::bigint[], ${q.array(statuses.status)}::int2[]) as p(u, id, s)
        where m.msg_id = p.id and m.receiver_id = p.u
          and ((p.s = ${MsgStatus.DELIVERED} and m.status in (${MsgStatus.SENT}, ${MsgStatus.PUSH_FAILED}))
            or (p.s = ${MsgStatus.PUSH_FAILED} and m.status = ${MsgStatus.SENT}))
      )
      select 1`
  }

  /**
   * One status per (receiver, message): an update may change a row once per statement, and a delivery
   * outranks a push failure reported in the same batch (the ACK came after all).
   */
  private statusChanges (): { users: string[], msgIds: string[], status: number[] } {
    const latest = new Map<string, [string, string, number]>()
    for (const [user, msg] of this.failed) latest.set(`${user}:${msg}`, [user, msg, MsgStatus.PUSH_FAILED])
    for (const [user, msg] of this.delivered) latest.set(`${user}:${msg}`, [user, msg, MsgStatus.DELIVERED])
    const rows = [...latest.values()]
    return { users: rows.map(r => r[0]), msgIds: rows.map(r => r[1]), status: rows.map(r => r[2]) }
  }
}

/** Keeps the highest seq per (user, conversation): one row each, as ON CONFLICT requires. */
function keepHighest (rows: Map<string, { userId: string, conversationId: string, seq: number }>, userId: string, conversationId: string, seq: number): void {
  const key = `${userId}:${conversationId}`
  const entry = rows.get(key)
  if (entry === undefined || entry.seq < seq) rows.set(key, { userId, conversationId, seq })
}
