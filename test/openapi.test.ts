// The OpenAPI document (GET /openapi.json, source in src/http/openapi/) against the running server, so it
// cannot drift: it is valid OpenAPI 3.1; every route the server registered is documented and every
// documented route exists; and every endpoint is called here, each request checked against its documented
// body and each real answer against the documented status, content type and schema (additional fields
// refused). A new endpoint fails this file until it is documented and called below (one line in `calls`).
import { randomUUID } from 'node:crypto'
import t, { type Test } from 'tap'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import { Validator } from '@seriousme/openapi-schema-validator'
import { MessageType, type ImConnection } from '@implus/client'
import { ADMIN_TOKEN, DEFAULT_PASSWORD, startServer, uniqueUserId, type TestServer } from './helpers/server.js'
import { loggedIn } from './helpers/clients.js'
import { openApiSource } from '../src/http/openapi/document.js'

// ajv-formats is CommonJS with a default export: under ESM interop it arrives as the module object.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule)

type Json = Record<string, any>

interface Operation {
  readonly key: string
  readonly method: string
  readonly pattern: RegExp
  readonly spec: Json
  readonly pointer: string
}

interface Answer {
  readonly status: number
  readonly body: any
}

let server: TestServer
let doc: Json
const operations: Operation[] = []
const ajv = new Ajv2020({ strict: false, allErrors: true })
addFormats(ajv)
const validators = new Map<string, ValidateFunction>()
/** Per operation, the statuses answered and checked. */
const answered = new Map<string, Set<number>>()
const sockets: ImConnection[] = []

const pointerPart = (s: string): string => encodeURIComponent(s.replace(/~/g, '~0').replace(/\//g, '~1'))

function validator (pointer: string): ValidateFunction {
  let v = validators.get(pointer)
  if (v === undefined) {
    v = ajv.compile({ $ref: `openapi.json#${pointer}` })
    validators.set(pointer, v)
  }
  return v
}

t.before(async () => {
  server = await startServer()
  const res = await fetch(`${server.httpUrl}/openapi.json`)
  doc = await res.json() as Json
  ajv.addSchema(doc, 'openapi.json')
  for (const [path, methods] of Object.entries(doc.paths as Json)) {
    for (const [method, spec] of Object.entries(methods as Json)) {
      const pattern = new RegExp(`^${path.replace(/[.]/g, '\\.').replace(/\{\w+\}/g, '[^/]+')}$`)
      operations.push({ key: `${method.toUpperCase()} ${path}`, method, pattern, spec, pointer: `/paths/${pointerPart(path)}/${method}` })
    }
  }
})
t.teardown(async () => {
  for (const c of sockets) c.close()
  await server?.stop()
})

/**
 * One request, checked against the document both ways; returns the answer (JSON parsed when JSON). A body
 * sent for a success must be valid for the document, one sent for a 400 invalid: both sides agree.
 */
async function call (t: Test, method: string, path: string, expected: number, opts: { body?: unknown, token?: string, raw?: string } = {}): Promise<Answer> {
  const route = path.split('?')[0]!
  const op = operations.find(o => o.method === method.toLowerCase() && o.pattern.test(route))
  if (op === undefined) {
    t.fail(`${method} ${route} is not in the document`)
    return { status: 0, body: null }
  }
  if (opts.body !== undefined && op.spec.requestBody !== undefined) {
    const check = validator(`${op.pointer}/requestBody/content/application~1json/schema`)
    if (expected === 400) t.notOk(check(opts.body), `${op.key}: a body the server refuses is invalid for the document too`)
    else t.ok(check(opts.body), `${op.key}: the request body this test sends is valid for the document ${JSON.stringify(check.errors)}`)
  }
  const headers: Record<string, string> = {}
  if (opts.token !== undefined) headers.authorization = `Bearer ${opts.token}`
  const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body))
  if (payload !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(server.httpUrl + path, { method, headers, body: payload })
  const text = await res.text()
  const status = res.status
  let response: Json | undefined = op.spec.responses[String(status)]
  let pointer = `${op.pointer}/responses/${status}`
  if (response?.$ref !== undefined) {
    pointer = (response.$ref as string).slice(1)
    response = doc.components.responses[(response.$ref as string).split('/').pop()!]
  }
  if (response === undefined) {
    t.fail(`${op.key}: status ${status} is not documented (body: ${text.slice(0, 200)})`)
    return { status, body: text }
  }
  const contentType = res.headers.get('content-type') ?? ''
  const media = Object.keys(response.content ?? {})
  let body: unknown = text
  if (media.length === 0) {
    t.equal(text, '', `${op.key} ${status}: no body, as documented`)
  } else {
    t.ok(media.some(m => contentType.startsWith(m)), `${op.key} ${status}: content type ${contentType} is documented (${media.join(', ')})`)
    if (contentType.startsWith('application/json')) body = JSON.parse(text)
    const check = validator(`${pointer}/content/${pointerPart(media[0]!)}/schema`)
    t.ok(check(body), `${op.key} ${status}: the answer matches its schema ${JSON.stringify(check.errors)} ${text.slice(0, 300)}`)
  }
  let statuses = answered.get(op.key)
  if (statuses === undefined) answered.set(op.key, statuses = new Set())
  statuses.add(status)
  return { status, body }
}

/** A call expected to answer `status`; returns the envelope's data (or the text body). */
async function expect (t: Test, status: number, method: string, path: string, opts: { body?: unknown, token?: string, raw?: string } = {}): Promise<any> {
  const answer = await call(t, method, path, status, opts)
  t.equal(answer.status, status, `${method} ${path}: ${status}`)
  return typeof answer.body === 'object' && answer.body !== null ? answer.body.data : answer.body
}

t.test('the document is valid OpenAPI 3.1', async t => {
  const result = await new Validator().validate(doc)
  t.equal(result.valid, true, `valid: ${JSON.stringify(result.errors)}`)
  t.equal(doc.openapi, '3.1.0')
})

t.test('every route the server registered is documented, and every documented route exists', async t => {
  const undocumented = operations.filter(o => o.spec['x-implus-undocumented'] === true).map(o => o.key)
  t.same(undocumented, [], 'no registered route is missing from src/http/openapi/')
  const source = openApiSource()
  const written = Object.entries(source.paths).flatMap(([path, methods]) => Object.keys(methods).map(m => `${m.toUpperCase()} ${path}`)).sort()
  t.same(operations.map(o => o.key).sort(), written, 'the served document is the source, whole: every documented route is registered')
  t.notOk(server.logs.some(l => typeof l.msg === 'string' && l.msg.includes('OpenAPI')), 'the server logged no OpenAPI mismatch')
})

t.test('every endpoint answers as documented', async t => {
  const [aliceId, bobId, carolId] = [uniqueUserId(), uniqueUserId(), uniqueUserId()]
  const password = DEFAULT_PASSWORD

  // users
  for (const id of [aliceId, bobId, carolId]) await expect(t, 200, 'POST', '/users/register', { body: { userId: id, username: `user ${id}`, password } })
  await expect(t, 409, 'POST', '/users/register', { body: { userId: aliceId, username: 'again', password } })
  await expect(t, 400, 'POST', '/users/register', { raw: '{"userId":' })
  await expect(t, 401, 'POST', '/users/login', { body: { userId: aliceId, password: 'wrong password' } })
  const alice = (await expect(t, 200, 'POST', '/users/login', { body: { userId: aliceId, password } })).token as string
  const bob = (await expect(t, 200, 'POST', '/users/login', { body: { userId: bobId, password } })).token as string
  const carol = (await expect(t, 200, 'POST', '/users/login', { body: { userId: carolId, password } })).token as string
  const refreshed = await expect(t, 200, 'POST', '/users/refresh-token', { token: alice })
  t.ok(Date.parse(refreshed.expiresAt) > Date.now(), 'the refreshed token expires in the future')
  await expect(t, 401, 'POST', '/users/refresh-token', {})
  await expect(t, 200, 'GET', `/users/info/${bobId}`, { token: refreshed.token })
  await expect(t, 404, 'GET', `/users/info/${uniqueUserId()}`, { token: alice })
  await expect(t, 400, 'GET', '/users/info/0123', { token: alice })
  await expect(t, 403, 'GET', `/users/status/${bobId}`, { token: alice })
  await expect(t, 200, 'POST', '/users/login', { body: { username: `user ${bobId}`, password } })
  await expect(t, 200, 'GET', `/users/profile/${bobId}`, { token: alice })
  await expect(t, 404, 'GET', `/users/profile/${uniqueUserId()}`, { token: alice })
  await expect(t, 200, 'POST', '/users/profiles', { body: { userIds: [bobId, carolId] }, token: alice })
  await expect(t, 200, 'GET', `/users/by-username/${encodeURIComponent(`user ${carolId}`)}`, { token: alice })
  await expect(t, 404, 'GET', '/users/by-username/nobody-at-all', { token: alice })
  await expect(t, 200, 'POST', '/users/profile', { body: { displayName: 'Alice', avatarUrl: 'https://example.com/a.png' }, token: alice })
  await expect(t, 400, 'POST', '/users/profile', { body: { displayName: 5 }, token: alice })
  const doomedId = uniqueUserId()
  await expect(t, 200, 'POST', '/users/register', { body: { userId: doomedId, username: `doomed ${doomedId}`, password, displayName: 'Doomed' } })
  const doomed = (await expect(t, 200, 'POST', '/users/login', { body: { userId: doomedId, password } })).token as string
  await expect(t, 403, 'POST', '/users/password', { body: { oldPassword: 'wrong', newPassword: 'a new password' }, token: doomed })
  const renewed = (await expect(t, 200, 'POST', '/users/password', { body: { oldPassword: password, newPassword: 'a new password' }, token: doomed })).token as string
  await expect(t, 403, 'POST', '/users/delete', { body: { password }, token: renewed })
  await expect(t, 200, 'POST', '/users/delete', { body: { password: 'a new password' }, token: renewed })
  // IMPLUS_LOGIN_FAILURE_LIMIT (10 by default) wrong passwords for one user, then 429 as documented.
  const guessedId = uniqueUserId()
  await expect(t, 200, 'POST', '/users/register', { body: { userId: guessedId, username: `guessed ${guessedId}`, password } })
  for (let i = 0; i < 10; i++) await expect(t, 401, 'POST', '/users/login', { body: { userId: guessedId, password: `wrong password ${i}` } })
  await expect(t, 429, 'POST', '/users/login', { body: { userId: guessedId, password } })
  await expect(t, 200, 'POST', '/users/friends', { body: { friendId: bobId }, token: alice })
  await expect(t, 200, 'GET', `/users/status/${bobId}`, { token: alice })
  await expect(t, 200, 'GET', '/users/friends', { token: alice })
  await expect(t, 404, 'DELETE', `/users/friends/${carolId}`, { token: alice })
  const request = await expect(t, 200, 'POST', '/users/friend-requests', { body: { toId: carolId, message: 'hi' }, token: alice })
  await expect(t, 404, 'POST', '/users/friend-requests', { body: { toId: uniqueUserId() }, token: alice })
  await expect(t, 409, 'POST', '/users/friend-requests', { body: { toId: bobId }, token: alice })
  await expect(t, 200, 'GET', '/users/friend-requests', { token: carol })
  await expect(t, 403, 'POST', `/users/friend-requests/${request.requestId}/accept`, { token: alice })
  await expect(t, 200, 'POST', `/users/friend-requests/${request.requestId}/decline`, { token: carol })
  await expect(t, 409, 'POST', `/users/friend-requests/${request.requestId}/accept`, { token: carol })
  const second = await expect(t, 200, 'POST', '/users/friend-requests', { body: { toId: carolId }, token: alice })
  await expect(t, 200, 'POST', `/users/friend-requests/${second.requestId}/cancel`, { token: alice })
  await expect(t, 404, 'POST', '/users/friend-requests/99999999999/cancel', { token: alice })
  const third = await expect(t, 200, 'POST', '/users/friend-requests', { body: { toId: carolId }, token: alice })
  await expect(t, 200, 'POST', `/users/friend-requests/${third.requestId}/accept`, { token: carol })
  await expect(t, 200, 'POST', '/users/blacklist', { body: { userId: carolId }, token: alice })
  await expect(t, 200, 'GET', '/users/blacklist', { token: alice })
  await expect(t, 200, 'DELETE', `/users/blacklist/${carolId}`, { token: alice })
  await expect(t, 404, 'DELETE', `/users/blacklist/${carolId}`, { token: alice })

  // groups
  const group = await expect(t, 200, 'POST', '/api/conversations/create', { body: { conversationName: 'api', conversationType: 'GROUP', members: [bobId] }, token: alice }) as string
  await expect(t, 404, 'POST', '/api/conversations/create', { body: { conversationName: 'ghosts', members: [uniqueUserId()] }, token: alice })
  await expect(t, 200, 'POST', `/api/groups/${group}/members`, { body: { userIds: [carolId] }, token: alice })
  await expect(t, 403, 'POST', `/api/groups/${group}/members`, { body: { userIds: [carolId] }, token: bob })
  await expect(t, 200, 'GET', `/api/groups/${group}/members`, { token: bob })
  await expect(t, 200, 'DELETE', `/api/groups/${group}/members/${carolId}`, { token: alice })
  await expect(t, 403, 'GET', `/api/groups/${group}/members`, { token: carol })
  await expect(t, 200, 'GET', '/api/groups', { token: bob })
  await expect(t, 200, 'GET', `/api/groups/${group}`, { token: bob })
  await expect(t, 403, 'GET', `/api/groups/${group}`, { token: carol })
  await expect(t, 404, 'GET', '/api/groups/group_987654321', { token: bob })
  await expect(t, 200, 'GET', `/api/groups/${group}/roster`, { token: bob })
  await expect(t, 200, 'POST', `/api/groups/${group}/settings`, { body: { name: 'renamed', notice: 'hello' }, token: alice })
  await expect(t, 403, 'POST', `/api/groups/${group}/settings`, { body: { name: 'mine' }, token: bob })
  await expect(t, 400, 'POST', `/api/groups/${group}/settings`, { body: { name: '' }, token: alice })
  await expect(t, 200, 'POST', `/api/groups/${group}/admins`, { body: { userId: bobId, admin: true }, token: alice })
  await expect(t, 404, 'POST', `/api/groups/${group}/admins`, { body: { userId: carolId, admin: true }, token: alice })
  await expect(t, 200, 'POST', `/api/groups/${group}/mute-all`, { body: { muted: true }, token: bob })
  await expect(t, 200, 'POST', `/api/groups/${group}/mute-all`, { body: { muted: false }, token: bob })
  await expect(t, 200, 'POST', `/api/groups/${group}/admins`, { body: { userId: bobId, admin: false }, token: alice })
  await expect(t, 200, 'POST', `/api/groups/${group}/mute`, { body: { userId: bobId, seconds: 60 }, token: alice })
  await expect(t, 200, 'POST', `/api/groups/${group}/mute`, { body: { userId: bobId, seconds: 0 }, token: alice })
  const doomedGroup = await expect(t, 200, 'POST', '/api/conversations/create', { body: { conversationName: 'short-lived', members: [bobId] }, token: alice }) as string
  await expect(t, 200, 'POST', `/api/groups/${doomedGroup}/transfer`, { body: { userId: bobId }, token: alice })
  await expect(t, 403, 'POST', `/api/groups/${doomedGroup}/dismiss`, { token: alice })
  await expect(t, 200, 'POST', `/api/groups/${doomedGroup}/dismiss`, { token: bob })
  await expect(t, 410, 'POST', `/api/groups/${doomedGroup}/members`, { body: { userIds: [carolId] }, token: bob })

  // messages, sent over a socket so there is something to pull
  const socket = await loggedIn(server, { userId: aliceId, token: alice }, sockets)
  const send = async (frame: { type: number, toId?: string, conversationId?: string }): Promise<string> => {
    const clientSeq = randomUUID()
    socket.send({ ...frame, content: 'hello', clientSeq })
    const receipt = await socket.next(f => f.type === MessageType.MESSAGE_SEND_RECEIPT && f.clientSeq === clientSeq)
    return receipt.uid
  }
  const privateMsg = await send({ type: MessageType.PRIVATE_CHAT, toId: bobId })
  const groupMsg = await send({ type: MessageType.GROUP_CHAT, conversationId: group })
  const conversation = BigInt(aliceId) < BigInt(bobId) ? `private_${aliceId}_${bobId}` : `private_${bobId}_${aliceId}`
  await expect(t, 200, 'POST', '/api/messages/sync-check', { body: { lastSyncSeq: 0 }, token: bob })
  await expect(t, 400, 'POST', '/api/messages/sync-check', { body: { lastSyncSeq: -1 }, token: bob })
  const batch = await expect(t, 200, 'POST', '/api/messages/pull-batch', { body: { fromSeq: 1, limit: 10 }, token: bob })
  t.ok(batch.messages.length > 0, 'pull-batch returned the message, so its MessageInfo schema was checked')
  await expect(t, 200, 'POST', '/api/messages/pull', { body: { conversationId: conversation, startSeq: 1 }, token: bob })
  await expect(t, 403, 'POST', '/api/messages/pull', { body: { conversationId: conversation, startSeq: 1 }, token: carol })
  await expect(t, 200, 'POST', '/api/group-messages/pull', { body: { conversations: { [group]: 0 } }, token: bob })
  await expect(t, 200, 'GET', `/api/group-messages/latest-seq/${group}`, { token: bob })
  await expect(t, 200, 'GET', `/api/messages/${groupMsg}/read-count`, { token: alice })
  await expect(t, 404, 'GET', '/api/messages/1/read-count', { token: alice })
  await expect(t, 403, 'POST', `/api/messages/${privateMsg}/recall`, { token: bob })
  await expect(t, 200, 'POST', `/api/messages/${privateMsg}/recall`, { token: alice })
  const sync = await expect(t, 200, 'POST', '/api/conversations/sync', { body: { limit: 10 }, token: bob })
  t.ok(sync.conversations.length >= 2, 'conversations/sync listed both conversations, so their schema was checked')
  await expect(t, 200, 'DELETE', `/users/friends/${bobId}`, { token: alice })

  // files
  const notes = await expect(t, 200, 'POST', '/api/files?name=notes.txt', { raw: 'some notes', token: alice })
  await expect(t, 400, 'POST', '/api/files?name=..%2Fnotes.txt', { raw: 'some notes', token: alice })
  await expect(t, 200, 'GET', `/api/files/${notes.fileId}`, { token: alice })
  await expect(t, 200, 'HEAD', `/api/files/${notes.fileId}`, { token: alice })
  await expect(t, 403, 'GET', `/api/files/${notes.fileId}`, { token: bob })
  await expect(t, 404, 'GET', '/api/files/1', { token: alice })
  const signed = await expect(t, 200, 'POST', `/api/files/${notes.fileId}/url`, { token: alice })
  await expect(t, 200, 'GET', signed.url)
  await expect(t, 403, 'POST', `/api/files/${notes.fileId}/url`, { token: bob })

  // admin
  await expect(t, 401, 'POST', `/admin/users/${carolId}/status`, { body: { status: 1 }, token: 'not the admin token' })
  await expect(t, 200, 'POST', `/admin/users/${carolId}/status`, { body: { status: 1, mutedUntil: null }, token: ADMIN_TOKEN })
  await expect(t, 404, 'POST', `/admin/users/${uniqueUserId()}/status`, { body: { status: 1 }, token: ADMIN_TOKEN })

  // operations and the web page
  t.equal(await expect(t, 200, 'GET', '/healthz'), 'ok\n')
  t.equal(await expect(t, 200, 'GET', '/readyz'), 'ready\n')
  t.equal(await expect(t, 200, 'HEAD', '/healthz'), '', 'HEAD /healthz: the status, no body')
  t.equal(await expect(t, 200, 'HEAD', '/readyz'), '')
  t.match(await expect(t, 200, 'GET', '/metrics'), /# TYPE /)
  const info = await expect(t, 200, 'GET', '/api/server-info')
  t.equal(info.websocket.url, `ws://127.0.0.1:${server.ports.ws}/websocket`, "server-info names the request's host and the bound WebSocket port")
  t.equal(info.tcp.url, `tcp://127.0.0.1:${server.ports.tcp}`)
  await expect(t, 200, 'GET', '/openapi.json')
  for (const page of ['/', '/app', '/app.js']) await expect(t, 200, 'GET', page)
  await expect(t, 204, 'GET', '/favicon.ico')

  // logout last: it revokes the tokens used above
  await expect(t, 403, 'GET', `/users/logout/${bobId}`, { token: carol })
  await expect(t, 200, 'GET', `/users/logout/${carolId}`, { token: carol })
  await expect(t, 200, 'POST', '/users/logout', { token: bob })
  await expect(t, 401, 'GET', '/users/friends', { token: bob })
})

t.test('every documented operation was called and answered 2xx as documented', async t => {
  for (const op of operations) {
    const statuses = [...answered.get(op.key) ?? []]
    t.ok(statuses.some(s => s >= 200 && s < 300), `${op.key} was exercised with a success (${statuses.join(', ') || 'never called'})`)
  }
})
