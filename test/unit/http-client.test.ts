import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { ImHttpClient, ImHttpError } from '@implus/client'

interface Seen {
  method: string
  url: string
  authorization: string | undefined
  body: unknown
}

type Reply = { status: number; body: string; headers?: Record<string, string> }

// A stand-in server: records each request and answers with the next queued reply.
async function stub (t: { teardown: (fn: () => unknown) => void }) {
  const seen: Seen[] = []
  const replies: Reply[] = []
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    let text = ''
    for await (const chunk of req) text += chunk
    seen.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization, body: text === '' ? undefined : JSON.parse(text) })
    const reply = replies.shift() ?? ok(null)
    res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers }).end(reply.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => server.close(resolve)))
  const client = new ImHttpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
  return { client, seen, reply: (r: Reply) => replies.push(r) }
}

const ok = (data: unknown): Reply => ({ status: 200, body: JSON.stringify({ code: 200, message: 'success', data }) })
const fail = (code: number, message: string): Reply => ({ status: code, body: JSON.stringify({ code, message, data: null }) })

t.test('login stores the token and later calls carry it', async (t) => {
  const { client, seen, reply } = await stub(t)
  reply(ok({ userId: '1', username: 'ann', token: 'tok-1', expiresAt: '2030-01-01T00:00:00Z' }))
  const login = await client.login('1', 'password1')
  t.equal(login.token, 'tok-1')
  t.equal(client.token, 'tok-1')
  t.same(seen[0], { method: 'POST', url: '/users/login', authorization: undefined, body: { userId: '1', password: 'password1' } })

  reply(ok({ messages: [], hasMore: false, nextSeq: 8 }))
  t.same(await client.pullBatch(8, 50), { messages: [], hasMore: false, nextSeq: 8 }, 'returns the envelope data')
  t.same(seen[1], { method: 'POST', url: '/api/messages/pull-batch', authorization: 'Bearer tok-1', body: { fromSeq: 8, limit: 50 } })

  await client.logout()
  t.equal(client.token, null, 'logout forgets the token')
})

t.test('paths are escaped and bodies follow docs/protocol.md', async (t) => {
  const { client, seen, reply } = await stub(t)
  client.token = 'tok'
  reply(ok('group_77'))
  t.equal(await client.createGroup({ conversationName: 'team', members: ['2', '3'] }), 'group_77')
  await client.removeMember('group_77', '3')
  reply(ok({ conversationId: 'a/b', latestSeq: 4 }))
  await client.latestSeq('a/b')
  await client.adminSetStatus('admin-secret', '9', { status: 2 })
  t.same(
    seen.map((s) => [s.method, s.url, s.body]),
    [
      ['POST', '/api/conversations/create', { conversationName: 'team', members: ['2', '3'], conversationType: 'GROUP' }],
      ['DELETE', '/api/groups/group_77/members/3', undefined],
      ['GET', '/api/group-messages/latest-seq/a%2Fb', undefined],
      ['POST', '/admin/users/9/status', { status: 2 }],
    ]
  )
  t.equal(seen[3].authorization, 'Bearer admin-secret', 'admin calls use the admin token')
})

t.test('a non-200 envelope throws ImHttpError with its status and message', async (t) => {
  const { client, reply } = await stub(t)
  reply(fail(409, 'userId taken'))
  await t.rejects(client.register({ userId: '1', username: 'ann', password: 'password1' }), { name: 'ImHttpError', status: 409, message: 'userId taken' })
  reply({ status: 502, body: '<html>bad gateway</html>' })
  const error = await client.friends().catch((e: unknown) => e)
  t.ok(error instanceof ImHttpError)
  t.equal((error as ImHttpError).status, 502, 'a body that is no envelope keeps the HTTP status')
  t.equal((error as ImHttpError).retryAfterSeconds, null, 'no Retry-After: null')
})

t.test('Retry-After reaches ImHttpError as seconds; a form implus does not send is left out', async (t) => {
  const { client, reply } = await stub(t)
  client.token = 'tok'
  reply({ ...fail(429, 'too many requests'), headers: { 'retry-after': '7' } })
  await t.rejects(client.friends(), { name: 'ImHttpError', status: 429, retryAfterSeconds: 7 })
  reply({ ...fail(503, 'busy'), headers: { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' } })
  await t.rejects(client.friends(), { status: 503, retryAfterSeconds: null })
})

t.test('a 401 to a request with the session token renews it once (onUnauthorized) and retries', async (t) => {
  const { client: plain, seen, reply } = await stub(t)
  const renewals: string[] = []
  const client = new ImHttpClient(plain.baseUrl, { onUnauthorized: async (old) => { renewals.push(old); return 'tok-new' } })
  client.token = 'tok-old'
  reply(fail(401, 'token revoked'))
  reply(ok([{ userId: '2', username: 'bo' }]))
  t.same(await client.friends(), [{ userId: '2', username: 'bo' }], 'the retried request answers')
  t.same(renewals, ['tok-old'], 'renewed once, given the refused token')
  t.equal(client.token, 'tok-new', 'the new token is kept')
  t.same(seen.map((s) => s.authorization), ['Bearer tok-old', 'Bearer tok-new'])

  reply(fail(401, 'still no'))
  reply(fail(401, 'still no'))
  await t.rejects(client.friends(), { status: 401 }, 'a second 401 is the answer: no loop')
  t.equal(renewals.length, 2, 'one renewal per request')

  reply(fail(401, 'expired'))
  await t.rejects(client.refreshToken(), { status: 401 }, 'the renewal endpoint itself is never renewed')
  t.equal(renewals.length, 2)
  t.throws(() => new ImHttpClient('ftp://x'), /must be http:\/\/ or https:\/\//, 'a base URL that is not http(s) is refused')
})
