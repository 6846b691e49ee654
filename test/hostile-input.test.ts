// Issue 10: a logged-in user attacks a running server with frames within the rate limit, and nobody else
// may notice. Items 1, 2, 4 and 5: 2006 items naming junk or nonexistent groups cost no cache memory;
// frames the gateway and the decoder read differently, NUL characters and bad ACK items are refused
// alone, never failing an honest user's sends in the same batch; ACK frames are capped and each item
// is charged against the rate limit.

import t from 'tap'
import { randomUUID } from 'node:crypto'
import { ImConnection, MessageType, decodeFrame, encodeFrame, type DecodedFrame } from '@implus/client'
import { api, freePort, readSecrets, registerAndLogin, startServer, type TestServer } from './helpers/server.js'
import { connect, type Sql } from '../src/db/connect.js'
import { loggedIn, type TestUser } from './helpers/clients.js'

// One shard: every frame below shares its batches with the honest user's sends.
const RATE = 1000
let server: TestServer
let sql: Sql
const opened: ImConnection[] = []

t.before(async () => {
  const pgPort = await freePort()
  server = await startServer({ env: { IMPLUS_SHARDS: '1', IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_RATE_LIMIT: String(RATE), IMPLUS_RATE_BURST: String(RATE), IMPLUS_EMBEDDED_PG_PORT: String(pgPort) } })
  sql = connect(`postgres://postgres:${encodeURIComponent(readSecrets(server.dataDir).embeddedPgPassword)}@127.0.0.1:${pgPort}/implus`, { max: 1 })
})
t.teardown(async () => {
  for (const c of opened) c.close()
  await sql?.end({ timeout: 5 })
  await server?.stop()
})

const answer = (clientSeq: string) => (f: DecodedFrame): boolean =>
  f.clientSeq === clientSeq && (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED)
const isError = (f: DecodedFrame): boolean => f.type === MessageType.ERROR

async function createGroup (owner: TestUser, members: TestUser[]): Promise<string> {
  const res = await api(server, 'POST', '/api/conversations/create', { conversationName: 'g', conversationType: 'GROUP', members: members.map(m => m.userId) }, owner.token)
  if (res.status !== 200) throw new Error(`create group: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.data as string
}

async function metric (name: string): Promise<number> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text()
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  return sum
}

/** A valid-looking id no group or message has (decimal, 18 digits). */
const junkId = (): string => String(100_000_000_000_000_000n + BigInt(Math.floor(Math.random() * 1e15)))

/**
 * A 3001 whose toId the gateway's field reader and the protobuf decoder read differently: a valid toId,
 * then field 4 again with the varint wire type. The reader skips a varint field 4 (and the seq field it
 * hides); the decoder reads it as a string anyway, of two bytes, "0\u0000", on which BigInt throws.
 */
function misreadPrivateChat (toId: string, clientSeq: string): Uint8Array {
  const good = encodeFrame({ type: MessageType.PRIVATE_CHAT, toId, content: 'poison', clientSeq })
  return Uint8Array.from([...good, 0x20, 0x02, 0x30, 0x00])
}

t.test('2006 items naming no group, or junk, cost no cache memory; a member\'s group sends all succeed meanwhile', async t => {
  const [owner, member, stranger] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const conversationId = await createGroup(owner, [member])
  const [m, s] = [await loggedIn(server, member, opened), await loggedIn(server, stranger, opened)]

  s.send({ type: MessageType.GROUP_CONVERSATION_ACK, content: `group_${'7'.repeat(60_000)}:1` })
  t.match(await s.next(isError), { errorCode: 400, content: /not a group_\{id\}:seq item/ }, 'a 60 KB item is refused at once')
  s.send({ type: MessageType.GROUP_CONVERSATION_ACK, content: Array.from({ length: 101 }, () => `group_${junkId()}:1`).join(',') })
  t.match(await s.next(isError), { errorCode: 400, content: /at most 100 items/ }, 'a frame of 101 items is refused')
  s.send({ type: MessageType.GROUP_CONVERSATION_ACK, content: `${conversationId}\u0000:5` })
  t.match(await s.next(isError), { errorCode: 400 }, 'a NUL inside an item is refused')

  // 40 frames of 100 groups that do not exist, and sends to groups that do not exist, beside a member's sends.
  const FRAMES = 40
  const sends: Promise<DecodedFrame>[] = []
  for (let i = 0; i < FRAMES; i++) {
    s.send({ type: MessageType.GROUP_CONVERSATION_ACK, content: Array.from({ length: 100 }, () => `group_${junkId()}:${i + 1}`).join(',') })
    s.send({ type: MessageType.GROUP_CHAT, conversationId: `group_${junkId()}`, content: 'x', clientSeq: randomUUID() })
    const clientSeq = randomUUID()
    m.send({ type: MessageType.GROUP_CHAT, conversationId, content: `m${i}`, clientSeq })
    sends.push(m.next(answer(clientSeq), 20_000))
  }
  const results = await Promise.all(sends)
  t.same(results.map(f => f.type), Array(FRAMES).fill(MessageType.MESSAGE_SEND_RECEIPT), `all ${FRAMES} of the member's group sends are stored`)
  const refused: DecodedFrame[] = []
  for (let i = 0; i < FRAMES; i++) refused.push(await s.next(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED, 20_000))
  t.ok(refused.every(f => f.errorCode === 404 && f.content === 'unknown group'), 'the stranger\'s sends are each refused with 404 unknown group')
  t.equal(s.frames.filter(isError).length, 3, 'the well-formed ACKs of groups that do not exist are not errors: they change nothing')

  // The shard reports its cache size once a second: a report after one more cycle covers everything above.
  const cycles = await metric('implus_shard_cycles_total')
  const clientSeq = randomUUID()
  m.send({ type: MessageType.GROUP_CHAT, conversationId, content: 'last', clientSeq })
  await m.next(answer(clientSeq), 10_000)
  while (await metric('implus_shard_cycles_total') <= cycles) await new Promise(resolve => setTimeout(resolve, 100))
  const bytes = await metric('implus_shard_cache_bytes')
  // Caching the 4,000 + 40 absent groups would take over 1 MB: only the one real group and these users are held.
  t.ok(bytes > 0 && bytes < 100_000, `the shard caches hold ${bytes} bytes, nothing for the absent groups`)
})

t.test('poison frames beside an honest user\'s sends: each is refused alone, every honest send is stored', async t => {
  const [alice, bob, mallory] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const conversationId = await createGroup(mallory, [bob])
  const [a, m] = [await loggedIn(server, alice, opened), await loggedIn(server, mallory, opened, 'tcp')]

  const misread = decodeFrame(misreadPrivateChat(bob.userId, 'x'))
  t.equal(misread.toId, '0\u0000', 'the decoder reads the poison toId as the test intends')

  const ROUNDS = 20
  const honest: Promise<DecodedFrame>[] = []
  const poison: { clientSeq: string, kind: string }[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const misreadSeq = randomUUID()
    m.sendRaw(misreadPrivateChat(bob.userId, misreadSeq))
    poison.push({ clientSeq: misreadSeq, kind: 'a toId read two ways' })
    const nulSeq = `nul-${i}\u0000`
    m.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'poison', clientSeq: nulSeq })
    poison.push({ clientSeq: nulSeq, kind: 'a NUL in clientSeq' })
    const nulContent = randomUUID()
    m.send({ type: MessageType.GROUP_CHAT, conversationId, content: 'a\u0000b', clientSeq: nulContent })
    poison.push({ clientSeq: nulContent, kind: 'a NUL in content' })
    m.send({ type: MessageType.GROUP_CONVERSATION_ACK, content: `${conversationId}:1,group_1\u0000:2` })
    const clientSeq = randomUUID()
    a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: `honest ${i}`, clientSeq })
    honest.push(a.next(answer(clientSeq), 20_000))
  }
  const results = await Promise.all(honest)
  t.same(results.map(f => f.type), Array(ROUNDS).fill(MessageType.MESSAGE_SEND_RECEIPT), `all ${ROUNDS} honest sends got a receipt`)
  for (const { clientSeq, kind } of poison) {
    const f = await m.next(answer(clientSeq), 10_000)
    t.match(f, { type: MessageType.MESSAGE_DELIVERY_FAILED, errorCode: 400 }, `${kind}: 1006 400 (${f.content})`)
  }
  for (let i = 0; i < ROUNDS; i++) t.match(await m.next(isError), { errorCode: 400 }, `NUL in a 2006 item ${i}: 1009 400`)
  t.equal((await m.heartbeat()).content, 'pong', 'the attacker\'s own connection is still served')
})

t.test('refused sends reserve no numbers; read receipts write and tell nothing where they should not', async t => {
  const [alice, bob, mallory] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const conversationId = await createGroup(alice, [bob])
  const [a, b, m] = [await loggedIn(server, alice, opened), await loggedIn(server, bob, opened), await loggedIn(server, mallory, opened)]
  const sendAndWait = async (c: ImConnection, frame: { type: number, toId?: string, conversationId?: string }): Promise<DecodedFrame> => {
    const clientSeq = randomUUID()
    c.send({ ...frame, content: 'x', clientSeq })
    return await c.next(answer(clientSeq), 10_000)
  }
  t.equal((await sendAndWait(m, { type: MessageType.PRIVATE_CHAT, toId: bob.userId })).type, MessageType.MESSAGE_SEND_RECEIPT, 'mallory and bob have a conversation')

  const [{ sections: before }] = await sql<{ sections: number }[]>`select count(*)::int as sections from sequence_section`
  const refusals: Promise<DecodedFrame>[] = []
  for (let i = 0; i < 100; i++) {
    refusals.push(sendAndWait(m, { type: MessageType.PRIVATE_CHAT, toId: junkId() }))
    refusals.push(sendAndWait(m, { type: MessageType.GROUP_CHAT, conversationId }))
    refusals.push(sendAndWait(m, { type: MessageType.GROUP_CHAT, conversationId: `group_${junkId()}` }))
  }
  const refused = await Promise.all(refusals)
  t.ok(refused.every(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED && (f.errorCode === 404 || f.errorCode === 403)), '300 sends refused with 404 or 403')
  const [{ sections: after }] = await sql<{ sections: number }[]>`select count(*)::int as sections from sequence_section`
  t.equal(after, before, 'and not one sequence row was reserved for them')

  t.equal((await api(server, 'POST', '/users/blacklist', { userId: mallory.userId }, bob.token)).status, 200, 'bob blocks mallory')
  const stranger = junkId()
  const [low, high] = BigInt(mallory.userId) < BigInt(stranger) ? [mallory.userId, stranger] : [stranger, mallory.userId]
  m.send({ type: MessageType.MESSAGE_READ_RECEIPT, readReceipt: { conversationId: `private_${low}_${high}`, lastReadSeq: 5 } })
  const [ml, mh] = BigInt(mallory.userId) < BigInt(bob.userId) ? [mallory.userId, bob.userId] : [bob.userId, mallory.userId]
  m.send({ type: MessageType.MESSAGE_READ_RECEIPT, readReceipt: { conversationId: `private_${ml}_${mh}`, lastReadSeq: 1 } })
  // One shard: a later send's receipt comes after the commit that holds both read receipts.
  await sendAndWait(m, { type: MessageType.GROUP_CHAT, conversationId: `group_${junkId()}` })
  const rows = await sql<{ conv: string }[]>`select conversation_id as conv from user_conversation_list where user_id = ${mallory.userId}`
  t.same(rows.map(r => r.conv), [`private_${ml}_${mh}`], 'a read receipt for a conversation that does not exist writes no row')
  t.equal((await sendAndWait(a, { type: MessageType.PRIVATE_CHAT, toId: bob.userId })).type, MessageType.MESSAGE_SEND_RECEIPT)
  await b.next(f => f.type === MessageType.PRIVATE_CHAT && f.fromId === alice.userId, 10_000)
  t.notOk(b.frames.some(f => f.type === MessageType.MESSAGE_READ_NOTIFICATION && f.fromId === mallory.userId), 'bob, who blocks mallory, hears nothing of her reading')
})

t.test('a NUL in an HTTP string field is a 400 naming the field, not a 500', async t => {
  const owner = await registerAndLogin(server)
  const res = await api(server, 'POST', '/api/conversations/create', { conversationName: 'a\u0000b', conversationType: 'GROUP', members: [] }, owner.token)
  t.equal(res.status, 400, `400 (${JSON.stringify(res.body)})`)
  t.match(res.body.message, /conversationName may not contain NUL/)
})

t.test('2005: at most 100 ids a frame, each id charged a tenth of a frame', async t => {
  const [user, other] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const c = await loggedIn(server, user, opened)
  c.send({ type: MessageType.BATCH_MESSAGE_ACK, content: Array.from({ length: 101 }, junkId).join(',') })
  t.match(await c.next(isError), { errorCode: 400, content: /at most 100 items/ }, '101 ids are refused')
  c.send({ type: MessageType.BATCH_MESSAGE_ACK, content: `${junkId()},abc` })
  t.match(await c.next(isError), { errorCode: 400, content: /not a message id: "abc"/ }, 'a junk id is refused, named')

  // The bucket holds RATE frames; 150 frames of 100 ids cost 1,500 and are sent well within the
  // second it takes to refill: some must be refused. (Charged one frame each, none would be.)
  for (let i = 0; i < 150; i++) c.send({ type: MessageType.BATCH_MESSAGE_ACK, content: Array.from({ length: 100 }, junkId).join(',') })
  t.match(await c.next(isError, 10_000), { errorCode: 429 }, 'ACK frames past the budget are refused with 429')

  // An honest pair on the same shard is unaffected once the bucket refills.
  const b = await loggedIn(server, other, opened)
  const clientSeq = randomUUID()
  b.send({ type: MessageType.PRIVATE_CHAT, toId: user.userId, content: 'still here', clientSeq })
  t.equal((await b.next(answer(clientSeq), 10_000)).type, MessageType.MESSAGE_SEND_RECEIPT, 'another user\'s send is stored')
})
