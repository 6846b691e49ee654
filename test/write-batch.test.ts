// WriteBatch (src/shards/write-batch.ts) against a real PostgreSQL: what one shard cycle writes, merged
// per key before commit (one INSERT ... ON CONFLICT may not touch a row twice), committed atomically as
// one statement or, with read receipts, group ACKs or recalls, as one transaction.
import t from 'tap'
import { WriteBatch } from '../src/shards/write-batch.js'
import { ConvType, MsgStatus, MsgType } from '../src/db/schema.js'
import type { Sql } from '../src/db/connect.js'
import { startTestDatabase, type TestDatabase } from './helpers/postgres.js'
import { addPrivateMessage } from './helpers/batches.js'

let database: TestDatabase
let sql: Sql
t.before(async () => {
  database = await startTestDatabase('write-batch')
  sql = database.sql
})
t.teardown(() => database?.close())

// Every test writes its own users and conversations, so none sees another's rows.
let nextUser = 100_000
let nextMsg = 1_000_000
const newUser = (): string => String(++nextUser)
const newMsgId = (): string => String(++nextMsg)

function groupMessage (batch: WriteBatch, msgId: string, conversationId: string, seq: number, sender: string): void {
  batch.message({ msgId, conversationId, conversationSeq: seq, senderId: sender, receiverId: null, msgType: MsgType.GROUP, contentType: 1, content: `content of ${msgId}`, clientSeq: `client-${msgId}`, time: Date.now() })
}

function privateMessage (batch: WriteBatch, sender: string, receiver: string, seq: number, time = Date.now()): string {
  const msgId = newMsgId()
  addPrivateMessage(batch, { msgId, sender, receiver, seq, time })
  return msgId
}

async function statusOf (msgId: string): Promise<number> {
  const [row] = await sql<{ status: number }[]>`select status from message where msg_id = ${msgId}`
  return row!.status
}

async function listEntry (userId: string, conversationId: string): Promise<{ unread: number, lastMsgId: string, lastReadSeq: string, syncSeq: string } | undefined> {
  const [row] = await sql<{ unread: number, lastMsgId: string, lastReadSeq: string, syncSeq: string }[]>`
    select unread_count as unread, last_msg_id as "lastMsgId", last_read_seq as "lastReadSeq", sync_seq as "syncSeq"
    from user_conversation_list where user_id = ${userId} and conversation_id = ${conversationId}`
  return row
}

t.test('constants', async t => {
  t.plan(3)
  t.same(MsgType, { PRIVATE: 1, GROUP: 2 })
  t.same(MsgStatus, { SENT: 0, DELIVERED: 1, READ: 2, RECALLED: 3, PUSH_FAILED: 4 })
  t.same(ConvType, { PRIVATE: 0, GROUP: 1 })
})

t.test('an empty batch is empty and commits without touching the database', async t => {
  const batch = new WriteBatch()
  t.ok(batch.empty)
  t.equal(batch.messages, 0)
  const broken = (() => { throw new Error('an empty batch sent a statement') }) as unknown as Sql
  await t.resolves(batch.commit(broken))
})

t.test('private messages: rows in send order, lists for both users, conversation and unread merged per key', async t => {
  const [alice, bob] = [newUser(), newUser()]
  const conversationId = `private_${alice}_${bob}`
  const batch = new WriteBatch()
  const ids = [1, 2, 3].map(seq => privateMessage(batch, alice, bob, seq, 5000 + seq))
  t.equal(batch.messages, 3)
  t.notOk(batch.empty)
  await batch.commit(sql)

  const rows = await sql<{ msgId: string, seq: string, status: number }[]>`
    select msg_id as "msgId", conversation_seq as seq, status from message where conversation_id = ${conversationId} order by conversation_seq`
  t.same(rows.map(r => [r.msgId, Number(r.seq), r.status]), ids.map((id, i) => [id, i + 1, MsgStatus.SENT]), 'three messages, seqs 1..3, status sent')
  for (const user of [alice, bob]) {
    const list = await sql<{ seq: string, msgId: string }[]>`select seq, msg_id as "msgId" from user_msg_list where user_id = ${user} order by seq`
    t.same(list.map(r => [Number(r.seq), r.msgId]), ids.map((id, i) => [i + 1, id]), `user ${user === alice ? 'alice' : 'bob'}'s message list`)
  }
  const convList = await sql<{ seq: string }[]>`select seq from conversation_msg_list where conversation_id = ${conversationId} order by seq`
  t.same(convList.map(r => Number(r.seq)), [1, 2, 3], 'the conversation\'s message list')
  const [conv] = await sql<{ type: number, lastMsgId: string, lastSeq: string, memberCount: number }[]>`
    select type, last_msg_id as "lastMsgId", last_seq as "lastSeq", member_count as "memberCount" from conversation where conversation_id = ${conversationId}`
  t.same(conv, { type: ConvType.PRIVATE, lastMsgId: ids[2], lastSeq: '3', memberCount: 2 }, 'the conversation row points at the latest message')
  t.match(await listEntry(bob, conversationId), { unread: 3, lastMsgId: ids[2] }, 'bob: 3 unread (three touches merged into one row)')
  t.match(await listEntry(alice, conversationId), { unread: 0, lastMsgId: ids[2] }, 'alice: nothing unread')

  const next = new WriteBatch()
  const fourth = privateMessage(next, alice, bob, 4)
  await next.commit(sql)
  t.match(await listEntry(bob, conversationId), { unread: 4, lastMsgId: fourth }, 'a later batch adds to the unread count')

  // A batch numbered earlier but committed later (another host, in cluster mode): the conversation keeps its latest.
  const late = new WriteBatch()
  privateMessage(late, alice, bob, 0)
  await late.commit(sql)
  const [after] = await sql<{ lastMsgId: string, lastSeq: string }[]>`
    select last_msg_id as "lastMsgId", last_seq as "lastSeq" from conversation where conversation_id = ${conversationId}`
  t.same(after, { lastMsgId: fourth, lastSeq: '4' }, 'last_seq is maximised, never moved back')
})

t.test('delivery status: the receiver\'s ACK delivers, a push failure only marks what was not delivered', async t => {
  const [alice, bob] = [newUser(), newUser()]
  const sent = new WriteBatch()
  const [m1, m2, m3, m4] = [1, 2, 3, 4].map(seq => privateMessage(sent, alice, bob, seq))
  await sent.commit(sql)

  const acks = new WriteBatch()
  acks.markDelivered(bob, m1!)
  acks.markDelivered(alice, m2!) // the sender's other device ACKs its own copy: not a delivery
  acks.markPushFailed(bob, m3!)
  acks.markPushFailed(bob, m4!)
  acks.markDelivered(bob, m4!) // failed and delivered in one batch: the ACK came after all
  t.notOk(acks.empty)
  await acks.commit(sql)
  t.same(await Promise.all([m1!, m2!, m3!, m4!].map(statusOf)), [MsgStatus.DELIVERED, MsgStatus.SENT, MsgStatus.PUSH_FAILED, MsgStatus.DELIVERED])

  const later = new WriteBatch()
  later.markDelivered(bob, m3!)
  later.markPushFailed(bob, m1!)
  await later.commit(sql)
  t.equal(await statusOf(m3!), MsgStatus.DELIVERED, 'a late ACK delivers a push-failed message')
  t.equal(await statusOf(m1!), MsgStatus.DELIVERED, 'a push failure never undoes a delivery')
})

t.test('read receipts and group ACKs keep the highest seq per (user, conversation), in the same transaction as new messages', async t => {
  const [alice, bob, carol] = [newUser(), newUser(), newUser()]
  const privateId = `private_${alice}_${bob}`
  const groupId = `group_${newUser()}`
  const setup = new WriteBatch()
  const sent = [1, 2, 3, 4, 5, 6, 7, 8].map(seq => privateMessage(setup, alice, bob, seq))
  for (let seq = 1; seq <= 8; seq++) {
    const msgId = newMsgId()
    groupMessage(setup, msgId, groupId, seq, alice)
    setup.conversationMessage(groupId, seq, msgId)
  }
  await setup.commit(sql)
  const dave = newUser()
  await sql`insert into users (user_id, username, password_hash) select u, 'u' || u, 'x' from unnest(${sql.array([alice, carol, dave])}::text[]::bigint[]) as u`
  await sql`insert into group_members (conversation_id, user_id) select ${groupId}, u from unnest(${sql.array([alice, carol])}::text[]::bigint[]) as u`

  const batch = new WriteBatch()
  const ninth = privateMessage(batch, alice, bob, 9)
  batch.read(bob, privateId, 5, false)
  batch.read(bob, privateId, 3, false)
  batch.read(bob, privateId, 8, false)
  batch.read(carol, groupId, 4, true)
  batch.groupAck(carol, groupId, 6)
  batch.groupAck(carol, groupId, 10)
  batch.groupAck(alice, groupId, 2)
  batch.groupAck(dave, groupId, 3)
  batch.groupAck(carol, `group_${newUser()}`, 3)
  await batch.commit(sql)

  t.match(await listEntry(bob, privateId), { lastReadSeq: '8', unread: 1, lastMsgId: ninth }, 'bob read up to 8: only the 9th (same batch) is unread')
  t.same(await Promise.all(sent.map(statusOf)), Array(8).fill(MsgStatus.READ), 'messages 1..8 are read')
  t.equal(await statusOf(ninth), MsgStatus.SENT, 'the 9th is not')
  t.match(await listEntry(carol, groupId), { lastReadSeq: '4', syncSeq: '8' }, 'carol: read point 4; her ACK of 10 stops at the group\'s latest seq, 8')
  t.match(await listEntry(alice, groupId), { syncSeq: '2' }, 'alice\'s group ACK')
  t.equal(await listEntry(dave, groupId), undefined, 'an ACK from someone not in the group writes nothing')
  const [{ rows }] = await sql<{ rows: number }[]>`select count(*)::int as rows from user_conversation_list where user_id = ${carol}`
  t.equal(rows, 1, '... nor does an ACK of a group that does not exist')

  const stale = new WriteBatch()
  stale.groupAck(alice, groupId, 1)
  await stale.commit(sql)
  t.match(await listEntry(alice, groupId), { syncSeq: '2' }, 'a lower ACK never moves the sync point back')
})

t.test('a group message moves its sender\'s sync point, never backwards, with the messages in one statement', async t => {
  const [alice, bob] = [newUser(), newUser()]
  const groupId = `group_${newUser()}`
  const batch = new WriteBatch()
  for (const seq of [1, 2, 3]) {
    groupMessage(batch, newMsgId(), groupId, seq, alice)
    batch.senderSeen(alice, groupId, seq)
  }
  groupMessage(batch, newMsgId(), groupId, 4, bob)
  batch.senderSeen(bob, groupId, 4)
  let transactions = 0
  const counting = Object.assign((...args: Parameters<Sql>) => (sql as unknown as (...a: unknown[]) => unknown)(...args), {
    array: sql.array.bind(sql),
    begin: (...args: unknown[]) => { transactions++; return (sql.begin as (...a: unknown[]) => unknown)(...args) }
  }) as unknown as Sql
  await batch.commit(counting)
  t.equal(transactions, 0, 'no transaction: one statement')
  t.match(await listEntry(alice, groupId), { syncSeq: '3' }, 'alice\'s sync point is her last message')
  t.match(await listEntry(bob, groupId), { syncSeq: '4' }, 'bob\'s too')
  const later = new WriteBatch()
  later.senderSeen(alice, groupId, 2)
  await later.commit(sql)
  t.match(await listEntry(alice, groupId), { syncSeq: '3' }, 'a lower seq does not move it back')
})

t.test('recall empties the content and marks the message recalled', async t => {
  const [alice, bob] = [newUser(), newUser()]
  const sent = new WriteBatch()
  const msgId = privateMessage(sent, alice, bob, 1)
  await sent.commit(sql)
  const batch = new WriteBatch()
  batch.recall(msgId)
  t.notOk(batch.empty)
  await batch.commit(sql)
  const [row] = await sql<{ status: number, content: string }[]>`select status, content from message where msg_id = ${msgId}`
  t.same(row, { status: MsgStatus.RECALLED, content: '' })
})

t.test('a batch is atomic: a stored (sender, clientSeq) fails it whole and writes nothing of it', async t => {
  const [alice, bob] = [newUser(), newUser()]
  const conversationId = `private_${alice}_${bob}`
  const first = new WriteBatch()
  const stored = privateMessage(first, alice, bob, 1)
  await first.commit(sql)

  for (const withRead of [false, true]) {
    const batch = new WriteBatch()
    const fresh = privateMessage(batch, alice, bob, withRead ? 12 : 2)
    // A copy of the stored message under a new id: same sender and clientSeq.
    batch.message({ msgId: newMsgId(), conversationId, conversationSeq: withRead ? 13 : 3, senderId: alice, receiverId: bob, msgType: MsgType.PRIVATE, contentType: 1, content: 'again', clientSeq: `client-${stored}`, time: Date.now() })
    batch.markDelivered(bob, stored)
    if (withRead) batch.read(bob, conversationId, 1, false)
    const path = withRead ? 'transaction' : 'single statement'
    await t.rejects(batch.commit(sql), { code: '23505' }, `${path}: the unique violation reaches the caller`)
    const [{ count }] = await sql<{ count: string }[]>`select count(*) from message where msg_id = ${fresh}`
    t.equal(count, '0', `${path}: the other message of the batch was not stored`)
    const [{ lists }] = await sql<{ lists: string }[]>`select count(*) as lists from user_msg_list where msg_id = ${fresh}`
    t.equal(lists, '0', `${path}: nor its list rows`)
    t.equal(await statusOf(stored), MsgStatus.SENT, `${path}: nor the delivery`)
    t.match(await listEntry(bob, conversationId), { unread: 1, lastReadSeq: '0' }, `${path}: nor the conversation-list changes`)
  }
})
