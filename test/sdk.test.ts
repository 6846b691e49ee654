// ImClient (@implus/client's sdk.ts) against the real server on each transport: private and group messages
// arrive exactly once and in seq order, offline sync brings what was sent while away, and a send whose
// receipt was lost is resent after a reconnect with the same clientSeq and stored once. Addresses: with
// only the HTTP URL the client asks GET /api/server-info where the socket is; a socket URL works as given.
// Tokens: the refreshToken callback renews a token before it expires and when the server refuses it.

import t from 'tap'
import { DEFAULT_PASSWORD, api, registerAndLogin, startServer, waitFor, within, type TestServer } from './helpers/server.js'
import { FrameProxy, PASS } from './helpers/frame-proxy.js'
import { ImClient, ImHttpClient, LoginError, MemorySeqStore, MessageType, type ImClientOptions, type ImMessage, type SeqStore, type TokenGrant } from '@implus/client'

type Tap = typeof t
type Kind = 'ws' | 'tcp' | 'udp'
interface User { userId: string, token: string }

let server: TestServer
const clients: ImClient[] = []
const proxies: FrameProxy[] = []

t.before(async () => {
  server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open' } })
})
t.teardown(async () => {
  for (const c of clients) await c.close().catch(() => {})
  for (const p of proxies) await p.close().catch(() => {})
  await server?.stop()
})

/** Every message a client delivered, in delivery order, with a promise per count. */
class Inbox {
  readonly all: ImMessage[] = []
  #waiters: Array<{ test: () => boolean, resolve: () => void }> = []

  constructor (client: ImClient) {
    client.on('message', m => {
      this.all.push(m)
      this.#waiters = this.#waiters.filter(w => {
        if (!w.test()) return true
        w.resolve()
        return false
      })
    })
  }

  private (): ImMessage[] { return this.all.filter(m => m.msgType === 1) }
  group (conversationId: string): ImMessage[] { return this.all.filter(m => m.conversationId === conversationId) }

  /** Resolves once `test` holds; rejects after `timeoutMs` with what was there. */
  until (test: () => boolean, timeoutMs = 20_000, what = 'messages'): Promise<void> {
    if (test()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; have ${this.all.length}: ${this.all.map(m => `${m.conversationId}#${m.seq}`).join(' ')}`)), timeoutMs)
      this.#waiters.push({ test, resolve: () => { clearTimeout(timer); resolve() } })
    })
  }
}

function port (kind: Kind): number {
  const p = server.ports[kind]
  if (p === undefined) throw new Error(`no ${kind} port`)
  return p
}

async function client (user: User, kind: Kind, more: Partial<ImClientOptions> = {}): Promise<{ client: ImClient, inbox: Inbox }> {
  const c = await ImClient.connect({ httpUrl: server.httpUrl, host: '127.0.0.1', port: port(kind), transport: kind, userId: user.userId, token: user.token, ...more })
  clients.push(c)
  const inbox = new Inbox(c)
  return { client: c, inbox }
}

async function createGroup (owner: User, members: string[]): Promise<string> {
  const res = await api(server, 'POST', '/api/conversations/create', { conversationName: 'sdk test', conversationType: 'GROUP', members }, owner.token)
  if (res.status !== 200) throw new Error(`create group: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body.data as string
}

async function pullAll (user: User): Promise<ImMessage[]> {
  const out: ImMessage[] = []
  let fromSeq = 1
  for (;;) {
    const res = await api(server, 'POST', '/api/messages/pull-batch', { fromSeq, limit: 500 }, user.token)
    if (res.status !== 200) throw new Error(`pull-batch: ${res.status} ${JSON.stringify(res.body)}`)
    out.push(...res.body.data.messages)
    if (!res.body.data.hasMore) return out
    fromSeq = res.body.data.nextSeq
  }
}

/** Exactly once per msgId and strictly increasing seqs, contiguous from `first`. */
function checkStream (t: Tap, messages: ImMessage[], count: number, what: string, first = 1): void {
  t.equal(messages.length, count, `${what}: ${count} messages`)
  t.equal(new Set(messages.map(m => m.msgId)).size, messages.length, `${what}: each msgId once`)
  const seqs = messages.map(m => m.seq)
  const expected = Array.from({ length: count }, (_, i) => first + i)
  t.same(seqs, expected, `${what}: seqs ${first}..${first + count - 1} in order`)
}

for (const kind of ['ws', 'tcp', 'udp'] as const) {
  t.test(`${kind}: private and group messages arrive exactly once, in order`, async t => {
    const [a, b, c] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
    const group = await createGroup(a, [b.userId, c.userId])
    const A = await client(a, kind)
    const B = await client(b, kind)
    const C = await client(c, kind)

    const fromA = Array.from({ length: 20 }, (_, i) => `a→b ${i}`)
    const fromB = Array.from({ length: 5 }, (_, i) => `b→a ${i}`)
    const receipts = await Promise.all([
      ...fromA.map(text => A.client.sendPrivate(b.userId, text)),
      ...fromB.map(text => B.client.sendPrivate(a.userId, text)),
      ...Array.from({ length: 10 }, (_, i) => A.client.sendGroup(group, `group from a ${i}`)),
      ...Array.from({ length: 10 }, (_, i) => B.client.sendGroup(group.slice('group_'.length), `group from b ${i}`))
    ])
    t.equal(new Set(receipts.map(r => r.msgId)).size, 45, 'one receipt per send, distinct msgIds')

    for (const [who, inbox] of [['A', A.inbox], ['B', B.inbox]] as const) {
      await inbox.until(() => inbox.private().length >= 25 && inbox.group(group).length >= 20, 20_000, `${who}'s messages`)
      checkStream(t, inbox.private(), 25, `${who} private stream`)
      checkStream(t, inbox.group(group), 20, `${who} group stream`)
    }
    await C.inbox.until(() => C.inbox.group(group).length >= 20, 20_000, "C's group messages")
    checkStream(t, C.inbox.group(group), 20, 'C group stream')
    t.equal(C.inbox.private().length, 0, 'C gets no private messages')

    // The stream matches the server's truth, and per-sender order is send order.
    const truth = await pullAll(b)
    t.same(B.inbox.private().map(m => m.msgId), truth.map(m => m.msgId), "B's private stream equals pull-batch")
    t.same(B.inbox.private().filter(m => m.fromUserId === a.userId).map(m => m.content), fromA, "A's messages in send order at B")
    t.same(C.inbox.group(group).filter(m => m.fromUserId === b.userId).map(m => m.content), Array.from({ length: 10 }, (_, i) => `group from b ${i}`), "B's group messages in send order at C")
    t.ok(C.inbox.group(group).every(m => m.content !== '' && m.msgType === 2), 'group bodies were pulled')
    for (const x of [A, B, C]) await x.client.close()
  })
}

t.test('offline sync: what was sent while away arrives at the next login, and nothing twice', async t => {
  const [a, b] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const group = await createGroup(a, [b.userId])
  const store: SeqStore = new MemorySeqStore()
  const A = await client(a, 'ws')
  const B1 = await client(b, 'ws', { store })
  for (let i = 0; i < 3; i++) await A.client.sendPrivate(b.userId, `before ${i}`)
  await A.client.sendGroup(group, 'group before')
  await B1.inbox.until(() => B1.inbox.all.length >= 4)
  await B1.client.close()
  const saved = await store.load(b.userId)
  t.equal(saved.userSeq, 3, 'position saved on close')
  t.equal(saved.groups[group], 1, 'group position saved on close')

  for (let i = 0; i < 30; i++) await A.client.sendPrivate(b.userId, `away ${i}`)
  for (let i = 0; i < 12; i++) await A.client.sendGroup(group, `group away ${i}`)

  const B2 = await client(b, 'tcp', { store })
  await B2.inbox.until(() => B2.inbox.private().length >= 30 && B2.inbox.group(group).length >= 12)
  checkStream(t, B2.inbox.private(), 30, 'private messages from away', 4)
  checkStream(t, B2.inbox.group(group), 12, 'group messages from away', 2)
  t.same(B2.inbox.private().map(m => m.content), Array.from({ length: 30 }, (_, i) => `away ${i}`), 'contents in order')
  // After the group ACK (2006), the server's sync point moves: the group shows nothing unread. The SDK
  // sends its ACKs batched and the server answers none, so the test asks until the sync point shows it.
  await t.resolves(waitFor(async () => {
    const sync = await api(server, 'POST', '/api/conversations/sync', {}, b.token)
    const summary = sync.body.data.conversations.find((c: { conversationId: string }) => c.conversationId === group)
    return summary?.unreadCount === 0
  }, 5000), 'group ACK moved the sync point: nothing unread')
  t.equal(B2.inbox.all.length, 42, 'nothing else delivered')
  await B2.client.close()
  await A.client.close()
})

t.test('a send whose receipt was lost is resent after a reconnect with the same clientSeq, stored once', async t => {
  const [a, b] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const proxy = new FrameProxy(port('tcp'))
  proxies.push(proxy)
  await proxy.listen()
  const A = await ImClient.connect({ httpUrl: server.httpUrl, host: '127.0.0.1', port: proxy.port, transport: 'tcp', userId: a.userId, token: a.token, reconnectBaseMs: 100, resendBaseMs: 60_000 })
  clients.push(A)
  const reconnected = new Promise<void>(resolve => A.on('connected', e => { if (e.reconnect) resolve() }))

  // The server's answers vanish: the message is stored, the receipt never arrives.
  let swallowed!: () => void
  const receiptSwallowed = new Promise<void>(resolve => { swallowed = resolve })
  proxy.policy = (frame, direction) => {
    if (direction !== 'down' || frame?.type !== MessageType.MESSAGE_SEND_RECEIPT) return { delays: [0] }
    swallowed()
    return { delays: [] }
  }
  const sending = A.sendPrivate(b.userId, 'exactly once please')
  // The proxy swallowing the receipt is the event: wait for it, then the send must still be pending.
  await within(receiptSwallowed, 5000, 'the proxy swallowing the receipt')
  t.equal(A.pendingSends, 1, 'still waiting for the receipt')
  proxy.policy = PASS
  proxy.cutAll()
  await reconnected
  const receipt = await sending
  const sends = proxy.seen.up.filter(f => f?.type === MessageType.PRIVATE_CHAT)
  t.equal(sends.length, 2, 'sent once, resent once after the reconnect')
  t.equal(sends[0]?.clientSeq, sends[1]?.clientSeq, 'the resend keeps its clientSeq')
  t.equal(receipt.clientSeq, sends[0]?.clientSeq, 'the receipt answers that clientSeq')
  const stored = (await pullAll(b)).filter(m => m.content === 'exactly once please')
  t.equal(stored.length, 1, 'one stored message')
  t.equal(stored[0]?.msgId, receipt.msgId, 'the receipt names it')
  await A.close()
})

t.test('addresses: the server names its sockets (server-info), or a socket URL is given', async t => {
  const [a, b] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const ws = await ImClient.connect({ httpUrl: server.httpUrl, userId: a.userId, token: a.token })
  clients.push(ws)
  const tcp = await ImClient.connect({ httpUrl: server.httpUrl, transport: 'tcp', userId: b.userId, token: b.token })
  clients.push(tcp)
  const inbox = new Inbox(tcp)
  await ws.sendPrivate(b.userId, 'found the WebSocket by asking')
  await inbox.until(() => inbox.private().length === 1)
  t.equal(inbox.private()[0]!.content, 'found the WebSocket by asking', 'ws (discovered) to tcp (discovered)')

  const byUrl = await ImClient.connect({ httpUrl: server.httpUrl, url: `ws://127.0.0.1:${port('ws')}/websocket`, userId: a.userId, token: a.token })
  clients.push(byUrl)
  t.equal((await byUrl.sendPrivate(b.userId, 'by url')).conversationId.startsWith('private_'), true, 'a given ws:// URL works')
  await t.rejects(ImClient.connect({ httpUrl: server.httpUrl, url: 'http://127.0.0.1:1/websocket', userId: a.userId, token: a.token }), /unsupported socket URL scheme http:/, 'an http:// socket URL is refused, saying why')
  await t.rejects(ImClient.connect({ httpUrl: server.httpUrl, url: `ws://127.0.0.1:${port('ws')}/websocket`, transport: 'tcp', userId: a.userId, token: a.token }), /does not match/, 'a transport that contradicts the URL is refused')
  for (const c of [ws, tcp, byUrl]) await c.close()
})

/** A refreshToken callback that logs in again with the password, counting its calls. */
function relogin (userId: string): { refresh: (current: string) => Promise<TokenGrant>, calls: string[] } {
  const calls: string[] = []
  return {
    calls,
    refresh: async current => {
      calls.push(current)
      return await new ImHttpClient(server.httpUrl).login(userId, DEFAULT_PASSWORD)
    }
  }
}

async function revokeAll (token: string): Promise<void> {
  const res = await api(server, 'POST', '/users/logout', undefined, token)
  if (res.status !== 200) throw new Error(`logout: ${res.status}`)
}

t.test('tokens: a refused token is renewed through refreshToken, at login and on an HTTP 401', async t => {
  const a = await registerAndLogin(server)
  await revokeAll(a.token)
  await t.rejects(ImClient.connect({ httpUrl: server.httpUrl, userId: a.userId, token: a.token }), LoginError, 'without the callback a revoked token ends the session')

  const { refresh, calls } = relogin(a.userId)
  const tokens: string[] = []
  const c = await ImClient.connect({ httpUrl: server.httpUrl, userId: a.userId, token: a.token, refreshToken: refresh })
  clients.push(c)
  c.on('token', grant => tokens.push(grant.token))
  t.same(calls, [a.token], 'the login refused with 401 asked for a new token once, with the old one')
  t.not(c.token, a.token, 'and logged in with the new one')
  t.equal(c.state, 'online')
  t.equal(c.http.token, c.token, 'the HTTP API uses it too')

  // Revoked again (a logout elsewhere): the next HTTP request meets 401, renews and is retried.
  const before = c.token
  await revokeAll(before)
  const check = await c.http.syncCheck(0)
  t.type(check.targetSeq, 'number', 'the request succeeded after renewal')
  t.same(calls.slice(1), [before], 'one more renewal, with the refused token')
  await waitFor(() => tokens.length === 2, 20_000)
  t.equal(tokens[1], c.token, "each renewal is a 'token' event (the login-time one too), the last carrying the token in use")
  await c.close()
})

t.test('tokens: renewed before expiry, with the still-valid token (POST /users/refresh-token)', async t => {
  const a = await registerAndLogin(server)
  const renewals: string[] = []
  const c = await ImClient.connect({
    httpUrl: server.httpUrl,
    userId: a.userId,
    token: a.token,
    // Told it ends in 31 s: renewal is due 30 s before the end, so at once.
    tokenExpiresAt: Date.now() + 31_000,
    refreshToken: async current => {
      renewals.push(current)
      const http = new ImHttpClient(server.httpUrl)
      http.token = current
      return await http.refreshToken()
    }
  })
  clients.push(c)
  const grant = await new Promise<TokenGrant>(resolve => c.once('token', resolve))
  t.same(renewals, [a.token], 'renewed once, before any refusal, with the current token')
  t.equal(c.token, grant.token, 'the new token is in use')
  t.ok(Date.parse(String(grant.expiresAt)) > Date.now() + 60_000, 'with the server\'s full lifetime')
  t.equal((await api(server, 'GET', `/users/info/${a.userId}`, undefined, grant.token)).status, 200, 'and the server takes it')
  await c.close()
})
