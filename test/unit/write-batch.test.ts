// WriteBatch (src/shards/write-batch.ts) without a database: a fake `Sql` records each statement's text and
// parameters, so the merging done before commit (one row per key) can be checked.
import t from 'tap'
import { ConvType, MsgStatus, MsgType, WriteBatch } from '../../src/shards/write-batch.js'
import type { Sql } from '../../src/db/connect.js'

interface Statement { text: string, values: unknown[] }

/** Commits `batch` into a recording fake and returns the statements in order. */
async function commit (batch: WriteBatch): Promise<Statement[]> {
  const statements: Statement[] = []
  const tx = Object.assign(
    (strings: TemplateStringsArray, ...values: unknown[]) => {
      const statement = { text: strings.join('?').replace(/\s+/g, ' ').trim(), values }
      statements.push(statement)
      return statement
    },
    { array: (values: unknown[]) => ({ array: values }) }
  )
  let begun = 0
  const sql = { begin: async (fn: (t: typeof tx) => unknown) => { begun++; return await fn(tx) } } as unknown as Sql
  await batch.commit(sql)
  if (begun !== 1) throw new Error(`expected one transaction, got ${begun}`)
  return statements
}

/** The array parameters of the one statement whose text starts with `prefix` (and contains `part`). */
function arrays (statements: Statement[], prefix: string, part = ''): unknown[][] {
  const found = statements.filter(s => s.text.startsWith(prefix) && s.text.includes(part))
  if (found.length !== 1) throw new Error(`${found.length} statements start with '${prefix}'`)
  return found[0].values.filter((v): v is { array: unknown[] } => typeof v === 'object' && v !== null && 'array' in v).map(v => v.array)
}

const UCL = 'insert into user_conversation_list (user_id, conversation_id, unread_count'

function message (batch: WriteBatch, msgId: string, conversationId: string, seq: number, time: number, msgType: number = MsgType.PRIVATE): void {
  batch.message({ msgId, conversationId, conversationSeq: seq, senderId: '1', receiverId: msgType === MsgType.PRIVATE ? '2' : null, msgType, contentType: 1, content: `c${msgId}`, clientSeq: `k${msgId}`, time })
}

t.test('constants', async t => {
  t.plan(3)
  t.same(MsgType, { PRIVATE: 1, GROUP: 2 })
  t.same(MsgStatus, { SENT: 0, DELIVERED: 1, READ: 2, RECALLED: 3, PUSH_FAILED: 4 })
  t.same(ConvType, { PRIVATE: 0, GROUP: 1 })
})

t.test('an empty batch is empty and commits no statement', async t => {
  t.plan(3)
  const batch = new WriteBatch()
  t.ok(batch.empty)
  t.equal(batch.messages, 0)
  t.same(await commit(batch), [])
})

t.test('touchUserConversation twice for the same user and conversation: one row, unread added, latest msg kept', async t => {
  t.plan(2)
  const batch = new WriteBatch()
  batch.touchUserConversation('2', 'private_1_2', '100', 1000, 1)
  batch.touchUserConversation('3', 'private_1_3', '101', 1001, 1)
  batch.touchUserConversation('2', 'private_1_2', '102', 1002, 1)
  batch.touchUserConversation('1', 'private_1_2', '102', 1002, 0)
  batch.touchUserConversation('2', 'private_1_2', '103', 1003, 2)
  batch.touchUserConversation('2', 'group_7', '104', 1004, 1)
  const [users, convs, unread, lastMsg, times] = arrays(await commit(batch), UCL)
  const rows = users.map((u, i) => [u, convs[i], unread[i], lastMsg[i], times[i]])
  t.same(rows, [
    ['2', 'private_1_2', 4, '103', 1003],
    ['3', 'private_1_3', 1, '101', 1001],
    ['1', 'private_1_2', 0, '102', 1002],
    ['2', 'group_7', 1, '104', 1004]
  ], 'one row per (user, conversation), in first-touch order')
  t.equal(new Set(rows.map(r => `${r[0]}:${r[1]}`)).size, rows.length, 'no key twice (ON CONFLICT may not update a row twice)')
})

t.test('messages keep send order; the conversation row is merged to the latest message', async t => {
  t.plan(5)
  const batch = new WriteBatch()
  message(batch, '10', 'private_1_2', 1, 5000)
  message(batch, '11', 'group_9', 7, 5001, MsgType.GROUP)
  message(batch, '12', 'private_1_2', 2, 5002)
  message(batch, '13', 'private_1_2', 3, 5003)
  t.equal(batch.messages, 4)
  t.notOk(batch.empty)
  const statements = await commit(batch)
  const [ids, convs, seqs] = arrays(statements, 'insert into message')
  t.same([ids, convs, seqs], [['10', '11', '12', '13'], ['private_1_2', 'group_9', 'private_1_2', 'private_1_2'], [1, 7, 2, 3]])
  const [cId, cType, cLast, cSeq, cTime] = arrays(statements, 'insert into conversation (')
  t.same(cId.map((id, i) => [id, cType[i], cLast[i], cSeq[i], cTime[i]]), [
    ['private_1_2', ConvType.PRIVATE, '13', 3, 5003],
    ['group_9', ConvType.GROUP, '11', 7, 5001]
  ])
  t.notOk(statements.some(s => s.text.startsWith(UCL)), 'no conversation-list statement when nothing touched it')
})

t.test('read receipts and group ACKs keep the highest seq per (user, conversation)', async t => {
  t.plan(4)
  const batch = new WriteBatch()
  batch.read('2', 'private_1_2', 5, false)
  batch.read('2', 'private_1_2', 3, false)
  batch.read('2', 'private_1_2', 8, false)
  batch.read('3', 'group_9', 4, true)
  batch.groupAck('3', 'group_9', 10)
  batch.groupAck('3', 'group_9', 6)
  batch.groupAck('4', 'group_9', 2)
  t.notOk(batch.empty)
  const statements = await commit(batch)
  const [rUser, rConv, rSeq, rGroup] = arrays(statements, 'update message m set status', 'as r(u, conv, seq, g)')
  t.same(rUser.map((u, i) => [u, rConv[i], rSeq[i], rGroup[i]]), [['2', 'private_1_2', 8, false], ['3', 'group_9', 4, true]])
  const [aUser, aConv, aSeq] = arrays(statements, 'insert into user_conversation_list as l (user_id, conversation_id, sync_seq)')
  t.same(aUser.map((u, i) => [u, aConv[i], aSeq[i]]), [['3', 'group_9', 10], ['4', 'group_9', 2]])
  t.equal(statements.filter(s => s.text.startsWith('insert into message')).length, 0, 'no message insert without messages')
})

t.test('delivered, push-failed and recalls make a batch non-empty', async t => {
  t.plan(3)
  for (const fill of [
    (b: WriteBatch) => b.markDelivered('2', '10'),
    (b: WriteBatch) => b.markPushFailed('2', '10'),
    (b: WriteBatch) => b.recall('10')
  ]) {
    const batch = new WriteBatch()
    fill(batch)
    t.notOk(batch.empty)
  }
})
