// ImClient under a hostile network: a TCP proxy between the SDK (tcp transport) and the server drops,
// duplicates, delays (so reorders) whole frames in both directions and cuts connections at random, driven
// by a seeded PRNG. After the run every client has every message exactly once, in seq order, on its
// private stream and on the group's stream, and equal to what the server stored.

import t from 'tap'
import { api, registerAndLogin, startServer, waitFor, type TestServer } from './helpers/server.js'
import { FrameProxy, PASS, type Policy } from './helpers/frame-proxy.js'
import { seededRandom } from './helpers/fake-scheduler.js'
import { ImClient, type ImMessage } from '@implus/client'

const SEED = Number(process.env.IMPLUS_CHAOS_SEED ?? 20240611)
const random = seededRandom(SEED)

let server: TestServer
let proxy: FrameProxy
const clients: ImClient[] = []

t.before(async () => {
  server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open' } })
  proxy = new FrameProxy(server.ports.tcp!)
  await proxy.listen()
})
t.teardown(async () => {
  for (const c of clients) await c.close().catch(() => {})
  await proxy?.close()
  await server?.stop()
})

/** Per frame: 7 % dropped, 7 % duplicated, 15 % of copies delayed by up to 250 ms (which reorders them). */
const chaos: Policy = () => {
  const r = random()
  const copies = r < 0.07 ? 0 : r < 0.14 ? 2 : 1
  const delays: number[] = []
  for (let i = 0; i < copies; i++) delays.push(random() < 0.15 ? Math.floor(random() * 250) : 0)
  return { delays }
}

async function pullAll (token: string): Promise<ImMessage[]> {
  const out: ImMessage[] = []
  let fromSeq = 1
  for (;;) {
    const res = await api(server, 'POST', '/api/messages/pull-batch', { fromSeq, limit: 500 }, token)
    if (res.status !== 200) throw new Error(`pull-batch: ${res.status} ${JSON.stringify(res.body)}`)
    out.push(...res.body.data.messages)
    if (!res.body.data.hasMore) return out
    fromSeq = res.body.data.nextSeq
  }
}

async function pullGroup (token: string, conversationId: string): Promise<ImMessage[]> {
  const out: ImMessage[] = []
  let lastSeq = 0
  for (;;) {
    const res = await api(server, 'POST', '/api/group-messages/pull', { conversations: { [conversationId]: lastSeq }, limit: 500 }, token)
    if (res.status !== 200) throw new Error(`group pull: ${res.status} ${JSON.stringify(res.body)}`)
    const got: ImMessage[] = res.body.data.conversations[conversationId] ?? []
    out.push(...got)
    if (got.length === 0 || !res.body.data.hasMore) return out
    lastSeq = got[got.length - 1].conversationSeq
  }
}

t.test('every message exactly once and in order through drops, duplicates, reordering and cuts', async t => {
  t.setTimeout(90_000)
  const started = Date.now()
  const users = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const [a, b, c] = users
  const res = await api(server, 'POST', '/api/conversations/create', { conversationName: 'chaos', conversationType: 'GROUP', members: [b.userId, c.userId] }, a.token)
  t.equal(res.status, 200, 'group created')
  const group = res.body.data as string

  const inboxes = new Map<string, ImMessage[]>()
  const connect = async (user: { userId: string, token: string }): Promise<ImClient> => {
    const client = await ImClient.connect({
      httpUrl: server.httpUrl,
      host: '127.0.0.1',
      port: proxy.port,
      transport: 'tcp',
      userId: user.userId,
      token: user.token,
      loginTimeoutMs: 1500,
      reconnectBaseMs: 100,
      maxReconnectDelayMs: 1000,
      resendBaseMs: 400,
      repairIntervalMs: 1000,
      heartbeatMs: 2000,
      random
    })
    clients.push(client)
    const inbox: ImMessage[] = []
    inboxes.set(user.userId, inbox)
    client.on('message', m => inbox.push(m))
    return client
  }
  const [A, B, C] = [await connect(a), await connect(b), await connect(c)]
  let reconnects = 0
  for (const client of [A, B, C]) client.on('connected', e => { if (e.reconnect) reconnects++ })

  proxy.policy = chaos
  const cutter = setInterval(() => { if (random() < 0.5) proxy.cutRandom(random) }, 600)

  // 300 messages: 100 A→B, 50 B→A, 50 C→A, 100 to the group (40 from A, 30 from B, 30 from C).
  const plan: Array<() => Promise<unknown>> = []
  for (let i = 0; i < 100; i++) plan.push(() => A.sendPrivate(b.userId, `A→B ${i}`))
  for (let i = 0; i < 50; i++) plan.push(() => B.sendPrivate(a.userId, `B→A ${i}`))
  for (let i = 0; i < 50; i++) plan.push(() => C.sendPrivate(a.userId, `C→A ${i}`))
  for (let i = 0; i < 40; i++) plan.push(() => A.sendGroup(group, `group A ${i}`))
  for (let i = 0; i < 30; i++) plan.push(() => B.sendGroup(group, `group B ${i}`))
  for (let i = 0; i < 30; i++) plan.push(() => C.sendGroup(group, `group C ${i}`))
  // Shuffled with the seeded PRNG, sent 15 at a time.
  for (let i = plan.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[plan[i], plan[j]] = [plan[j], plan[i]]
  }
  const receipts: Array<{ msgId: string }> = []
  for (let i = 0; i < plan.length; i += 15) receipts.push(...await Promise.all(plan.slice(i, i + 15).map(send => send())) as Array<{ msgId: string }>)
  t.equal(new Set(receipts.map(r => r.msgId)).size, 300, '300 sends, 300 distinct receipts')

  clearInterval(cutter)
  proxy.policy = PASS
  const want = new Map([[a.userId, { priv: 200, group: 100 }], [b.userId, { priv: 150, group: 100 }], [c.userId, { priv: 50, group: 100 }]])
  const complete = (): boolean => users.every(u => {
    const inbox = inboxes.get(u.userId)!
    const w = want.get(u.userId)!
    return inbox.filter(m => m.msgType === 1).length >= w.priv && inbox.filter(m => m.conversationId === group).length >= w.group
  })
  // The network is calm again: a sync (what an app does on resume) finds whatever the chaos hid.
  const deadline = Date.now() + 30_000
  while (!complete() && Date.now() < deadline) {
    for (const client of [A, B, C]) if (client.state === 'online') await client.sync().catch(() => {})
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  t.ok(complete(), 'every client got all its messages')
  // Late duplicates must not add anything: wait until none can still come, i.e. the proxy holds no
  // delayed copy and the server resends no push (every one ACKed; a lost ACK's resend is due 5, 15 or
  // 35 s after the first push).
  const pendingResends = async (): Promise<number> => {
    const text = await (await fetch(`${server.httpUrl}/metrics`)).text()
    return [...text.matchAll(/^implus_shard_pending_resends\{shard="\d+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0)
  }
  await t.resolves(waitFor(async () => proxy.delayed === 0 && await pendingResends() === 0, 60_000), 'no delayed copy or resend left in flight')

  for (const u of users) {
    const inbox = inboxes.get(u.userId)!
    const w = want.get(u.userId)!
    const priv = inbox.filter(m => m.msgType === 1)
    const grp = inbox.filter(m => m.conversationId === group)
    t.equal(new Set(inbox.map(m => m.msgId)).size, inbox.length, `${u.userId}: no message delivered twice`)
    t.equal(priv.length, w.priv, `${u.userId}: ${w.priv} private messages`)
    t.same(priv.map(m => m.seq), Array.from({ length: w.priv }, (_, i) => i + 1), `${u.userId}: private stream in userSeq order, gap-free`)
    t.same(priv.map(m => m.msgId), (await pullAll(u.token)).map(m => m.msgId), `${u.userId}: private stream equals the server's`)
    t.equal(grp.length, w.group, `${u.userId}: ${w.group} group messages`)
    t.same(grp.map(m => m.seq), Array.from({ length: w.group }, (_, i) => i + 1), `${u.userId}: group stream in conversationSeq order, gap-free`)
    const truth = await pullGroup(u.token, group)
    t.same(grp.map(m => m.msgId), truth.map(m => m.msgId), `${u.userId}: group stream equals the server's`)
    t.same(grp.map(m => m.content), truth.map(m => m.content), `${u.userId}: group bodies equal the server's`)
  }
  t.comment(`seed ${SEED}: ${proxy.connections} connections, ${reconnects} reconnects, ${Date.now() - started} ms`)
  t.ok(reconnects > 0, 'connections were cut and came back')
  for (const client of [A, B, C]) await client.close()
})
