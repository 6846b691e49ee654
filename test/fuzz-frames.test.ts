// Issue 10: a fuzz test of the frame decoder and the gateway on every transport. A logged-in client sends
// random bytes, mutated valid frames (bit flips, cuts, splices, repeated fields) and valid frames with
// junk field values, while an honest user on the same shard sends private messages. The server stays up,
// everything it answers decodes and carries a documented status, no frame fails another's batch (no 500
// or 503), and every honest send is stored. The generator is seeded: a failure names its seed.

import t from 'tap'
import { randomUUID } from 'node:crypto'
import { ImConnection, MessageType, decodeFrame, encodeFrame, type DecodedFrame, type Frame } from '@implus/client'
import { api, login, registerAndLogin, startServer, type TestServer } from './helpers/server.js'
import { loggedIn } from './helpers/clients.js'

const SEED = Number(process.env.IMPLUS_FUZZ_SEED ?? Date.now() % 1_000_000)
const FRAMES_PER_TRANSPORT = 400
const DOCUMENTED = new Set([0, 400, 401, 403, 404, 408, 409, 413, 429])

let server: TestServer
const opened: ImConnection[] = []
t.before(async () => {
  server = await startServer({ env: { IMPLUS_SHARDS: '1', IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_RATE_LIMIT: '100000' } })
})
t.teardown(async () => {
  for (const c of opened) c.close()
  await server?.stop()
})

/** mulberry32: small, seeded, good enough to pick mutations. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let r = Math.imul(a ^ (a >>> 15), 1 | a)
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296
  }
}

const answer = (clientSeq: string) => (f: DecodedFrame): boolean =>
  f.clientSeq === clientSeq && (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED)

t.test(`random and mutated frames on every transport (seed ${SEED})`, async t => {
  const [alice, bob, fuzzer] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const created = await api(server, 'POST', '/api/conversations/create', { conversationName: 'fuzz', conversationType: 'GROUP', members: [bob.userId] }, fuzzer.token)
  const groupId = created.body.data as string
  const honest = await loggedIn(server, alice, opened)
  await loggedIn(server, bob, opened)
  const random = prng(SEED)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!
  const junkText = (): string => pick(['', '\u0000', 'x'.repeat(Math.floor(random() * 200)), String(Math.floor(random() * 2 ** 53)), 'group_', `group_${bob.userId}`, 'private_1_2', '-1', '🙂\u0000', ',,,:'])
  const templates = (): Frame[] => [
    { type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'fuzz', clientSeq: randomUUID() },
    { type: MessageType.GROUP_CHAT, conversationId: groupId, content: 'fuzz', clientSeq: randomUUID() },
    { type: MessageType.MESSAGE_ACK, uid: String(2n ** 40n + BigInt(Math.floor(random() * 1e9))) },
    { type: MessageType.BATCH_MESSAGE_ACK, content: `${2n ** 41n},${2n ** 42n}` },
    { type: MessageType.GROUP_CONVERSATION_ACK, content: `${groupId}:1` },
    { type: MessageType.MESSAGE_READ_RECEIPT, readReceipt: { conversationId: groupId, lastReadSeq: 1 } },
    { type: MessageType.MESSAGE_RECALL, uid: String(2n ** 43n) },
    { type: MessageType.HEARTBEAT },
    { type: Math.floor(random() * 5000) - 100, content: junkText() }
  ]
  const withJunk = (frame: Frame): Frame => {
    const keys = ['toId', 'fromId', 'conversationId', 'content', 'clientSeq', 'uid', 'seq', 'deviceId'] as const
    const copy: Frame = { ...frame }
    copy[pick(keys)] = junkText()
    if (random() < 0.2) copy.contentType = Math.floor(random() * 200) - 50
    return copy
  }
  const mutate = (bytes: Uint8Array): Uint8Array => {
    const out = Array.from(bytes)
    switch (Math.floor(random() * 5)) {
      case 0: for (let i = 0; i < 3; i++) { const at = Math.floor(random() * out.length); out[at] = out[at]! ^ (1 << Math.floor(random() * 8)) } break
      case 1: out.length = Math.floor(random() * out.length); break
      case 2: out.splice(Math.floor(random() * out.length), 0, ...Array.from({ length: 1 + Math.floor(random() * 8) }, () => Math.floor(random() * 256))); break
      case 3: out.push(...out.slice(0, Math.floor(random() * out.length))); break
      default: out.push(0x20, 0x02, 0x30, 0x00) // a string field sent as a varint: read two ways
    }
    return Uint8Array.from(out)
  }
  const fuzzFrame = (): Uint8Array => {
    const r = random()
    if (r < 0.2) return Uint8Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256))
    const frame = pick(templates())
    if (r < 0.6) return mutate(encodeFrame(frame))
    return encodeFrame(withJunk(frame))
  }
  // A frame the peek reads as a logout closes the fuzzer's connection, as documented: it logs in again.
  const isLogout = (bytes: Uint8Array): boolean => { try { return decodeFrame(bytes).type === MessageType.LOGOUT } catch { return false } }

  for (const kind of ['ws', 'tcp', 'udp'] as const) {
    let f = await loggedIn(server, { userId: fuzzer.userId, token: await login(server, fuzzer.userId) }, opened, kind)
    const received: DecodedFrame[] = []
    let undecodable = 0
    const watch = (c: ImConnection): void => { c.onFrame(frame => received.push(frame)) }
    watch(f)
    const sends: Promise<DecodedFrame>[] = []
    let reconnects = 0
    for (let i = 0; i < FRAMES_PER_TRANSPORT; i++) {
      let bytes = fuzzFrame()
      if (kind === 'udp' && bytes.length > 1000) bytes = bytes.subarray(0, 1000)
      if (isLogout(bytes)) continue
      f.sendRaw(bytes)
      if (i % 20 === 0) {
        const clientSeq = randomUUID()
        honest.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: `honest ${kind} ${i}`, clientSeq })
        sends.push(honest.next(answer(clientSeq), 20_000))
      }
      if (i % 50 === 49) {
        undecodable += f.malformedFrames
        // Let the server catch up, and notice a connection it closed (a fuzz frame may have been a valid 2002 after all).
        const alive = await f.heartbeat().then(() => true, () => false)
        if (!alive) {
          // A fuzzed 2002 logs the user out everywhere and revokes its tokens: sign in again.
          reconnects++
          f = await loggedIn(server, { userId: fuzzer.userId, token: await login(server, fuzzer.userId) }, opened, kind)
          watch(f)
        }
      }
    }
    const results = await Promise.all(sends)
    t.same(results.map(r => r.type), Array(sends.length).fill(MessageType.MESSAGE_SEND_RECEIPT), `${kind}: all ${sends.length} honest sends stored beside the fuzz`)
    t.equal(undecodable + f.malformedFrames, 0, `${kind}: every frame the server sent the fuzzer decodes`)
    const undocumented = received.filter(r => !DOCUMENTED.has(r.errorCode))
    t.same(undocumented.map(r => `${r.type} ${r.errorCode} ${r.content}`), [], `${kind}: every answer carries a documented status (no 500, no 503)`)
    t.ok(received.some(r => r.type === MessageType.ERROR && r.errorCode === 400), `${kind}: malformed frames are answered with 1009 400`)
    t.comment(`${kind}: ${FRAMES_PER_TRANSPORT} fuzz frames, ${received.length} answers, ${reconnects} reconnects after a fuzzed logout`)
  }
  t.equal((await fetch(`${server.httpUrl}/healthz`)).status, 200, 'the server is up')
  t.equal((await honest.heartbeat()).content, 'pong', 'the honest connection is still served')
})
