// Issue 5: group chat over the wire against the real server (dist/): the full flow with members on each
// transport, conversationSeq contiguous under concurrent senders, non-members refused, group read
// notifications, recall in groups, and kill -9 right after receipts losing nothing.

import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { ImConnection, MessageType, type DecodedFrame } from '@implus/client'
import { api, registerAndLogin, startServer, type TestServer } from './helpers/server.js'

type Kind = 'ws' | 'tcp' | 'udp'
interface User { userId: string, token: string }

let server: TestServer
const opened = new Set<ImConnection>()

t.before(async () => {
  server = await startServer({ env: { IMPLUS_SHARDS: '2', IMPLUS_RATE_LIMIT: '100000' } })
})
t.teardown(async () => {
  for (const c of opened) c.close()
  await server?.stop()
})
t.afterEach(() => {
  for (const c of opened) c.close()
  opened.clear()
})

async function online (t: Test, kind: Kind, user: User): Promise<ImConnection> {
  const c = await ImConnection.open({ transport: kind, host: '127.0.0.1', port: server.ports[kind]!, token: kind === 'udp' ? user.token : undefined })
  opened.add(c)
  const res = await c.login(user.userId, user.token)
  t.equal(res.errorCode, 0, `${kind} login of ${user.userId}`)
  return c
}

async function createGroup (owner: User, members: User[]): Promise<string> {
  const res = await api(server, 'POST', '/api/conversations/create', { conversationName: 'g', conversationType: 'GROUP', members: members.map(m => m.userId) }, owner.token)
  if (res.status !== 200) throw new Error(`create group: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.data as string
}

const answers = (clientSeq: string) => (f: DecodedFrame): boolean =>
  f.clientSeq === clientSeq && (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED)

async function sendGroup (c: ImConnection, conversationId: string, content: string): Promise<DecodedFrame> {
  const clientSeq = randomUUID()
  c.send({ type: MessageType.GROUP_CHAT, conversationId, content, clientSeq })
  return await c.next(answers(clientSeq), 10_000)
}

const isNote = (f: DecodedFrame): boolean => f.type === MessageType.GROUP_MESSAGE_NOTIFICATION

async function pull (user: User, conversationId: string, lastSeq: number, limit = 500): Promise<any[]> {
  const res = await api(server, 'POST', '/api/group-messages/pull', { conversations: { [conversationId]: lastSeq }, limit }, user.token)
  if (res.status !== 200) throw new Error(`group pull: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.data.conversations[conversationId] as any[]
}

t.test('the full flow with members on each transport', async t => {
  const [owner, tcpUser, udpUser] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const conversationId = await createGroup(owner, [tcpUser, udpUser])
  const ws = await online(t, 'ws', owner)
  const tcp = await online(t, 'tcp', tcpUser)
  const udp = await online(t, 'udp', udpUser)

  const clientSeq = randomUUID()
  ws.send({ type: MessageType.GROUP_CHAT, toId: conversationId.slice(6), content: 'hello group', clientSeq })
  const receipt = await ws.next(answers(clientSeq))
  t.equal(receipt.type, MessageType.MESSAGE_SEND_RECEIPT, 'the sender gets a 2007 receipt')
  t.equal(receipt.conversationId, conversationId, 'receipt names the conversation')
  t.equal(receipt.conversationSeq, 1, 'the first message of a group has conversationSeq 1')
  const own = await ws.next(isNote)
  t.equal(own.clientSeq, clientSeq, "the sender's own 1007 carries its clientSeq")
  t.equal(own.toId, owner.userId, "the sender's copy is addressed to the sender")
  for (const [name, c, user] of [['tcp', tcp, tcpUser], ['udp', udp, udpUser]] as const) {
    const note = await c.next(isNote)
    t.equal(note.uid, receipt.uid, `${name} member gets the 1007 for the message`)
    t.equal(note.toId, user.userId, `${name}: toId is the member`)
    t.equal(note.fromId, owner.userId, `${name}: fromId is the sender`)
    t.equal(note.conversationSeq, 1, `${name}: conversationSeq`)
    t.equal(note.seq, '1', `${name}: seq is the conversationSeq as text`)
    t.equal(note.content, 'hello group', `${name}: short content is its own preview`)
    t.equal(note.clientSeq, '', `${name}: other members do not see the clientSeq`)
  }
  const bodies = await pull(tcpUser, conversationId, 0)
  t.same(bodies.map(m => [m.msgId, m.content, m.conversationSeq, m.msgType]), [[receipt.uid, 'hello group', 1, 2]], 'members pull the body by seq')
})

t.test('a non-member cannot send; a removed member stops receiving at once', async t => {
  const [owner, member, outsider] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const conversationId = await createGroup(owner, [member])
  const o = await online(t, 'tcp', outsider)
  const refused = await sendGroup(o, conversationId, 'let me in')
  t.equal(refused.type, MessageType.MESSAGE_DELIVERY_FAILED, 'a non-member send is refused')
  t.equal(refused.errorCode, 403, '... with 403')
  const unknown = await sendGroup(o, 'group_999999999999', 'anyone?')
  t.equal(unknown.errorCode, 404, 'an unknown group is 404')

  const m = await online(t, 'ws', member)
  const w = await online(t, 'ws', owner)
  const removed = await api(server, 'DELETE', `/api/groups/${conversationId}/members/${member.userId}`, undefined, owner.token)
  t.equal(removed.status, 200, 'owner removes the member')
  const after = await sendGroup(w, conversationId, 'after removal')
  t.equal(after.type, MessageType.MESSAGE_SEND_RECEIPT, 'the owner still sends')
  const late = await sendGroup(m, conversationId, 'am I still in?')
  t.equal(late.errorCode, 403, 'the removed member can no longer send')
  t.notOk(m.frames.some(f => isNote(f) && f.uid === after.uid), 'the removed member got no 1007 for the message sent after removal')
})

t.test('conversationSeq is contiguous under concurrent senders', async t => {
  const users = await Promise.all(Array.from({ length: 6 }, () => registerAndLogin(server)))
  const conversationId = await createGroup(users[0]!, users.slice(1))
  const conns = await Promise.all(users.map((u, i) => online(t, (['ws', 'tcp'] as const)[i % 2]!, u)))
  const PER = 40
  const receipts = (await Promise.all(conns.map(async (c, i) => {
    const seqs = Array.from({ length: PER }, () => randomUUID())
    for (let k = 0; k < PER; k++) c.send({ type: MessageType.GROUP_CHAT, conversationId, content: `s${i}-${k}`, clientSeq: seqs[k] })
    const got: DecodedFrame[] = []
    for (const s of seqs) got.push(await c.next(answers(s), 20_000))
    return got
  }))).flat()
  t.ok(receipts.every(r => r.type === MessageType.MESSAGE_SEND_RECEIPT), 'every send got a receipt')
  const seqs = receipts.map(r => r.conversationSeq).sort((a, b) => a - b)
  t.same(seqs, Array.from({ length: users.length * PER }, (_, i) => i + 1), 'conversationSeqs are exactly 1..N')
  const bodies = await pull(users[1]!, conversationId, 0)
  for (let i = 0; i < users.length; i++) {
    const mine = bodies.filter(m => m.fromUserId === users[i]!.userId).map(m => m.content)
    t.same(mine, Array.from({ length: PER }, (_, k) => `s${i}-${k}`), `sender ${i}'s messages are stored in send order`)
  }
})

t.test('group read notifications and recall', async t => {
  const [owner, reader, other] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const conversationId = await createGroup(owner, [reader, other])
  const w = await online(t, 'ws', owner)
  const r = await online(t, 'tcp', reader)
  const x = await online(t, 'ws', other)
  const sent = await sendGroup(w, conversationId, 'please read')
  await r.next(isNote)
  r.send({ type: MessageType.MESSAGE_READ_RECEIPT, readReceipt: { conversationId, lastReadSeq: sent.conversationSeq } })
  const read = await w.next(f => f.type === MessageType.MESSAGE_READ_NOTIFICATION)
  t.equal(read.fromId, reader.userId, '1008 names the reader')
  t.equal(read.readNotification?.msgId, sent.uid, '1008 names the message')
  t.equal(read.readNotification?.readCount, 1, 'one member has read it')
  const count = await api(server, 'GET', `/api/messages/${sent.uid}/read-count`, undefined, owner.token)
  t.equal(count.body.data.readCount, 1, 'read-count agrees')

  w.send({ type: MessageType.MESSAGE_RECALL, uid: sent.uid })
  for (const [name, c] of [['owner', w], ['reader', r], ['other', x]] as const) {
    const recall = await c.next(f => f.type === MessageType.RECALL_NOTIFICATION)
    t.equal(recall.uid, sent.uid, `${name} gets 1010 for the message`)
    t.equal(recall.fromId, owner.userId, `${name}: fromId is the original sender`)
  }
  const bodies = await pull(other, conversationId, 0)
  t.same(bodies.map(m => [m.status, m.content]), [[3, '']], 'a recalled message comes back with status 3 and no content')
  x.send({ type: MessageType.MESSAGE_RECALL, uid: sent.uid })
  const refused = await x.next(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED)
  t.equal(refused.errorCode, 403, 'only the sender may recall')
})

t.test('kill -9 right after receipts loses no group message', async t => {
  const [owner, member] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const conversationId = await createGroup(owner, [member])
  const w = await online(t, 'tcp', owner)
  const N = 200
  const seqs = Array.from({ length: N }, () => randomUUID())
  for (let i = 0; i < N; i++) w.send({ type: MessageType.GROUP_CHAT, conversationId, content: `g${i}`, clientSeq: seqs[i] })
  const receipts: DecodedFrame[] = []
  for (const s of seqs) receipts.push(await w.next(answers(s), 20_000))
  await server.kill9()
  t.ok(receipts.every(r => r.type === MessageType.MESSAGE_SEND_RECEIPT), `${N} receipts before the kill`)
  server = await server.restart()
  const bodies = await pull(member, conversationId, 0)
  t.same(bodies.map(m => m.msgId), receipts.map(r => r.uid), 'every acknowledged message is there, in order')
  const latest = await api(server, 'GET', `/api/group-messages/latest-seq/${conversationId}`, undefined, member.token)
  t.equal(latest.body.data.latestSeq, N, 'latest-seq is the last acknowledged seq')
  const w2 = await online(t, 'ws', owner)
  const next = await sendGroup(w2, conversationId, 'after the crash')
  t.ok(next.conversationSeq > N, `a new message gets a higher conversationSeq (${next.conversationSeq} > ${N})`)
})
