// The user endpoints of the HTTP API, exactly as docs/protocol.md states them, against one real server.

import { createHmac } from 'node:crypto'
import t, { type Test } from 'tap'
import { ImHttpClient, ImHttpError } from '@implus/client'
import {
  ADMIN_TOKEN, DEFAULT_PASSWORD, api, login, readSecrets, register, registerAndLogin, startServer, uniqueUserId,
  type ApiResponse, type TestServer
} from './helpers/server.js'

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

let server: TestServer

t.before(async () => {
  server = await startServer()
})
t.teardown(async () => {
  await server?.stop()
})

/** Status and envelope `code` agree, the envelope has a message, and an error carries no data. */
function expectError (t: Tap, res: ApiResponse, status: number, what: string): void {
  t.equal(res.status, status, `${what}: HTTP ${status}`)
  t.equal(res.body?.code, status, `${what}: envelope code ${status}`)
  t.type(res.body?.message, 'string', `${what}: envelope has a message`)
  t.not(res.body?.message, 'success', `${what}: message says why`)
}

function expectOk (t: Tap, res: ApiResponse, what: string): any {
  t.equal(res.status, 200, `${what}: HTTP 200 (${JSON.stringify(res.body)})`)
  t.equal(res.body?.code, 200, `${what}: envelope code 200`)
  t.equal(res.body?.message, 'success', `${what}: message "success"`)
  return res.body?.data
}

type Tap = Test

/** An HS256 JWT exactly as docs/protocol.md "Tokens" describes it, signed with the given secret. */
function signJwt (secret: string, claims: Record<string, unknown>): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url')
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url')
  const mac = createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${header}.${payload}`).digest('base64url')
  return `${header}.${payload}.${mac}`
}

function decodeJwt (token: string): Record<string, any> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'))
}

t.test('register', async t => {
  const userId = uniqueUserId()
  const data = expectOk(t, await api(server, 'POST', '/users/register', { userId, username: 'Alice 爱丽丝', password: DEFAULT_PASSWORD }), 'register')
  t.same(data, { userId, username: 'Alice 爱丽丝' }, 'data is {userId, username}')

  expectError(t, await api(server, 'POST', '/users/register', { userId, username: 'again', password: DEFAULT_PASSWORD }), 409, 'duplicate userId')

  const badIds: [string, unknown][] = [
    ['"0"', '0'], ['"01"', '01'], ['"-1"', '-1'], ['"abc"', 'abc'], ['2^63 ("9223372036854775808")', '9223372036854775808'],
    ['1.5', 1.5], ['""', ''], ['" 5"', ' 5'], ['null', null], ['an object', { id: 1 }]
  ]
  for (const [name, bad] of badIds) {
    expectError(t, await api(server, 'POST', '/users/register', { userId: bad, username: 'x', password: DEFAULT_PASSWORD }), 400, `userId ${name}`)
  }
  expectError(t, await api(server, 'POST', '/users/register', { username: 'x', password: DEFAULT_PASSWORD }), 400, 'missing userId')

  expectError(t, await api(server, 'POST', '/users/register', { userId: uniqueUserId(), username: 'x', password: '1234567' }), 400, 'password of 7 chars')
  expectError(t, await api(server, 'POST', '/users/register', { userId: uniqueUserId(), username: 'x', password: 'p'.repeat(129) }), 400, 'password of 129 chars')
  expectError(t, await api(server, 'POST', '/users/register', { userId: uniqueUserId(), username: 'x' }), 400, 'missing password')
  expectError(t, await api(server, 'POST', '/users/register', { userId: uniqueUserId(), password: DEFAULT_PASSWORD }), 400, 'missing username')

  // The bounds themselves are allowed.
  const min = uniqueUserId()
  expectOk(t, await api(server, 'POST', '/users/register', { userId: min, username: `user-${min}`, password: '12345678' }), 'password of 8 chars')
  t.type(await login(server, min, '12345678'), 'string', 'the 8-char password logs in')
  const max = uniqueUserId()
  expectOk(t, await api(server, 'POST', '/users/register', { userId: max, username: `user-${max}`, password: 'p'.repeat(128) }), 'password of 128 chars')
  t.type(await login(server, max, 'p'.repeat(128)), 'string', 'the 128-char password logs in')
})

t.test('64-bit ids travel as exact strings', async t => {
  const maxId = '9223372036854775807'
  const res = await api(server, 'POST', '/users/register', { userId: maxId, username: 'max', password: DEFAULT_PASSWORD })
  const data = expectOk(t, res, 'register 2^63-1')
  t.equal(data.userId, maxId, 'register echoes 2^63-1 exactly')
  t.type(data.userId, 'string', 'as a string')
  const logged = expectOk(t, await api(server, 'POST', '/users/login', { userId: maxId, password: DEFAULT_PASSWORD }), 'login 2^63-1')
  t.equal(logged.userId, maxId, 'login echoes it exactly')
  t.equal(decodeJwt(logged.token).sub, maxId, 'token sub is the exact id')
  const info = expectOk(t, await api(server, 'GET', `/users/info/${maxId}`, undefined, logged.token), 'info 2^63-1')
  t.equal(info.userId, maxId, 'info echoes it exactly')
  // A numeric userId within 2^53 is accepted and answered as a string.
  const small = Number(uniqueUserId().slice(0, 15))
  const smallRes = expectOk(t, await api(server, 'POST', '/users/register', { userId: small, username: 'num', password: DEFAULT_PASSWORD }), 'register with a JSON number id')
  t.equal(smallRes.userId, String(small), 'answered as a decimal string')
})

t.test('login', async t => {
  const userId = uniqueUserId()
  await register(server, userId, DEFAULT_PASSWORD, 'bob')
  const before = Date.now()
  const data = expectOk(t, await api(server, 'POST', '/users/login', { userId, password: DEFAULT_PASSWORD }), 'login')
  t.equal(data.userId, userId)
  t.equal(data.username, 'bob')
  t.type(data.token, 'string')
  t.match(data.expiresAt, ISO_8601, 'expiresAt is ISO 8601')
  const expiresAt = Date.parse(data.expiresAt)
  t.ok(expiresAt > before + 23 * 3600_000 && expiresAt < before + 25 * 3600_000, 'expires in 24 h by default')
  const claims = decodeJwt(data.token)
  t.equal(claims.sub, userId, 'JWT sub is the userId')
  t.equal(claims.exp * 1000, expiresAt, 'JWT exp matches expiresAt')
  t.type(claims.iat, 'number')
  t.type(claims.ver, 'number')
  t.same(JSON.parse(Buffer.from(data.token.split('.')[0], 'base64url').toString()), { alg: 'HS256', typ: 'JWT' }, 'HS256 header')

  expectError(t, await api(server, 'POST', '/users/login', { userId, password: 'wrong-password' }), 401, 'wrong password')
  expectError(t, await api(server, 'POST', '/users/login', { userId: uniqueUserId(), password: DEFAULT_PASSWORD }), 401, 'unknown user')
  expectError(t, await api(server, 'POST', '/users/login', { userId: 'abc', password: DEFAULT_PASSWORD }), 400, 'malformed userId')

  const info = expectOk(t, await api(server, 'GET', `/users/info/${userId}`, undefined, data.token), 'info after login')
  t.match(info.lastLoginTime, ISO_8601, 'lastLoginTime set by the login')
})

t.test('password guessing: after 10 failed logins the user gets 429, even with the right password', async t => {
  const userId = uniqueUserId()
  await register(server, userId)
  const guesses = async (id: string): Promise<number[]> => {
    const statuses: number[] = []
    for (let i = 1; i <= 10; i++) statuses.push((await api(server, 'POST', '/users/login', { userId: id, password: `guess-${i}` })).status)
    return statuses
  }
  t.same(await guesses(userId), Array(10).fill(401), '10 wrong passwords: 401 each')
  const locked = await api(server, 'POST', '/users/login', { userId, password: DEFAULT_PASSWORD })
  expectError(t, locked, 429, 'the 11th attempt, with the right password')
  // The lock-out lasts the rest of the 15-minute window: Retry-After says so in whole seconds, as the message does.
  const retryAfter = Number(locked.headers.get('retry-after'))
  t.ok(Number.isInteger(retryAfter) && retryAfter > 800 && retryAfter <= 900, `Retry-After is the rest of the window (${locked.headers.get('retry-after')})`)
  t.match(locked.body.message, `retry in ${retryAfter} s`, 'the message names the same wait')
  const unknown = uniqueUserId()
  t.same(await guesses(unknown), Array(10).fill(401), 'an unknown userId: 401 ten times')
  expectError(t, await api(server, 'POST', '/users/login', { userId: unknown, password: 'guess-11' }), 429, 'an unknown userId is limited alike (429 does not reveal who exists)')
  const other = uniqueUserId()
  await register(server, other)
  expectOk(t, await api(server, 'POST', '/users/login', { userId: other, password: DEFAULT_PASSWORD }), 'another user logs in')
})

t.test('authentication on protected endpoints', async t => {
  const { userId, token } = await registerAndLogin(server)
  const protectedRoutes: [string, string, unknown?][] = [
    ['GET', `/users/info/${userId}`],
    ['GET', `/users/status/${userId}`],
    ['GET', '/users/friends'],
    ['POST', '/users/friends', { friendId: uniqueUserId() }],
    ['DELETE', `/users/friends/${uniqueUserId()}`],
    ['POST', '/users/blacklist', { userId: uniqueUserId() }],
    ['DELETE', `/users/blacklist/${uniqueUserId()}`],
    ['POST', '/users/logout'],
    ['GET', `/users/logout/${userId}`]
  ]
  for (const [method, path, body] of protectedRoutes) {
    expectError(t, await api(server, method, path, body), 401, `${method} ${path} without a token`)
    expectError(t, await api(server, method, path, body, 'not-a-jwt'), 401, `${method} ${path} with a garbage token`)
    expectError(t, await api(server, method, path, body, undefined, { authorization: `Basic ${token}` }), 401, `${method} ${path} with a non-Bearer scheme`)
  }

  const { jwtSecret } = readSecrets(server.dataDir)
  const now = Math.floor(Date.now() / 1000)
  const ver = decodeJwt(token).ver
  // Deterministic expiry: a token signed with the server's own secret whose exp is already past.
  const expired = signJwt(jwtSecret, { sub: userId, iat: now - 7200, exp: now - 3600, ver })
  expectError(t, await api(server, 'GET', '/users/friends', undefined, expired), 401, 'expired token')
  // The same claims with a future exp are accepted: the refusal above is the expiry, not the crafting.
  const fresh = signJwt(jwtSecret, { sub: userId, iat: now, exp: now + 3600, ver })
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, fresh), 'a crafted unexpired token')
  const forged = signJwt('some-other-secret-some-other-secret', { sub: userId, iat: now, exp: now + 3600, ver })
  expectError(t, await api(server, 'GET', '/users/friends', undefined, forged), 401, 'token signed with another secret')
  const noneAlg = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: userId, iat: now, exp: now + 3600, ver })).toString('base64url')}.`
  expectError(t, await api(server, 'GET', '/users/friends', undefined, noneAlg), 401, 'alg none token')
  const tampered = token.split('.')
  tampered[1] = Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: uniqueUserId() })).toString('base64url')
  expectError(t, await api(server, 'GET', '/users/friends', undefined, tampered.join('.')), 401, 'payload changed after signing')
  const staleVersion = signJwt(jwtSecret, { sub: userId, iat: now, exp: now + 3600, ver: ver + 1 })
  expectError(t, await api(server, 'GET', '/users/friends', undefined, staleVersion), 401, 'token version other than the current one')
  const unknownUser = signJwt(jwtSecret, { sub: uniqueUserId(), iat: now, exp: now + 3600, ver: 0 })
  expectError(t, await api(server, 'GET', '/users/friends', undefined, unknownUser), 401, 'token of a user that does not exist')
})

t.test('logout: POST /users/logout', async t => {
  const { userId, token } = await registerAndLogin(server)
  const second = await login(server, userId)
  const data = expectOk(t, await api(server, 'POST', '/users/logout', undefined, token), 'logout')
  t.equal(data, null, 'data is null')
  for (const [method, path] of [['GET', '/users/friends'], ['GET', `/users/info/${userId}`], ['GET', `/users/status/${userId}`], ['POST', '/users/logout'], ['GET', `/users/logout/${userId}`]]) {
    expectError(t, await api(server, method, path, undefined, token), 401, `old token refused on ${method} ${path}`)
  }
  expectError(t, await api(server, 'GET', '/users/friends', undefined, second), 401, 'every token issued before the logout is revoked')
  const again = await login(server, userId)
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, again), 'a new login works')

  // The seed-style `userId` field stands for the caller: its own id is fine, another is 403.
  const other = await registerAndLogin(server)
  expectError(t, await api(server, 'POST', '/users/logout', { userId: other.userId }, again), 403, 'logout with a foreign userId in the body')
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, again), 'a refused logout revokes nothing')
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, other.token), 'nor the other user\'s tokens')
  expectOk(t, await api(server, 'POST', '/users/logout', { userId }, again), 'logout with its own userId in the body')
  expectError(t, await api(server, 'GET', '/users/friends', undefined, again), 401, 'revoked')
})

t.test('logout: GET /users/logout/{userId}', async t => {
  const { userId, token } = await registerAndLogin(server)
  const other = await registerAndLogin(server)
  expectError(t, await api(server, 'GET', `/users/logout/${other.userId}`, undefined, token), 403, 'GET logout of another user')
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, other.token), 'the other user is still logged in')
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, token), 'the caller too')
  expectError(t, await api(server, 'GET', '/users/logout/abc', undefined, token), 400, 'GET logout with a malformed userId')
  t.equal(expectOk(t, await api(server, 'GET', `/users/logout/${userId}`, undefined, token), 'GET logout of self'), null)
  expectError(t, await api(server, 'GET', '/users/friends', undefined, token), 401, 'old token refused after GET logout')
  expectError(t, await api(server, 'GET', `/users/info/${userId}`, undefined, token), 401, 'everywhere')
})

t.test('info', async t => {
  const a = await registerAndLogin(server)
  const bId = uniqueUserId()
  const before = Date.now()
  await register(server, bId, DEFAULT_PASSWORD, 'never-logged-in')
  const info = expectOk(t, await api(server, 'GET', `/users/info/${bId}`, undefined, a.token), 'info of any user')
  t.equal(info.userId, bId)
  t.equal(info.username, 'never-logged-in')
  t.equal(info.status, 1, 'status 1 (normal)')
  t.match(info.createTime, ISO_8601, 'createTime ISO 8601')
  t.ok(Math.abs(Date.parse(info.createTime) - before) < 60_000, 'createTime is about now')
  t.equal(info.lastLoginTime, null, 'lastLoginTime null before any login')
  t.same(Object.keys(info).sort(), ['createTime', 'lastLoginTime', 'status', 'userId', 'username'], 'exactly the documented fields (no password hash)')
  expectError(t, await api(server, 'GET', `/users/info/${uniqueUserId()}`, undefined, a.token), 404, 'unknown user')
  expectError(t, await api(server, 'GET', '/users/info/01', undefined, a.token), 400, 'malformed userId in the path')
})

t.test('status: self and friends only', async t => {
  const a = await registerAndLogin(server)
  const b = await registerAndLogin(server)
  const self = expectOk(t, await api(server, 'GET', `/users/status/${a.userId}`, undefined, a.token), 'own status')
  t.same(self, { userId: a.userId, online: false, devices: 0 }, 'nobody connected: offline, 0 devices')
  expectError(t, await api(server, 'GET', `/users/status/${b.userId}`, undefined, a.token), 403, 'status of a stranger')
  expectError(t, await api(server, 'GET', `/users/status/${uniqueUserId()}`, undefined, a.token), 403, 'status of an unknown user')
  expectOk(t, await api(server, 'POST', '/users/friends', { friendId: b.userId }, a.token), 'befriend')
  t.same(expectOk(t, await api(server, 'GET', `/users/status/${b.userId}`, undefined, a.token), 'status of a friend'), { userId: b.userId, online: false, devices: 0 })
  t.same(expectOk(t, await api(server, 'GET', `/users/status/${a.userId}`, undefined, b.token), 'the friendship is mutual'), { userId: a.userId, online: false, devices: 0 })
  expectOk(t, await api(server, 'DELETE', `/users/friends/${b.userId}`, undefined, a.token), 'unfriend')
  expectError(t, await api(server, 'GET', `/users/status/${b.userId}`, undefined, a.token), 403, 'no longer a friend')
})

t.test('friends', async t => {
  const a = await registerAndLogin(server)
  const b = await registerAndLogin(server)
  const c = await registerAndLogin(server)
  t.same(expectOk(t, await api(server, 'GET', '/users/friends', undefined, a.token), 'empty list'), [])
  t.equal(expectOk(t, await api(server, 'POST', '/users/friends', { friendId: b.userId }, a.token), 'add b'), null)
  expectOk(t, await api(server, 'POST', '/users/friends', { friendId: b.userId }, a.token), 'adding twice is harmless')
  expectOk(t, await api(server, 'POST', '/users/friends', { friendId: c.userId }, a.token), 'add c')
  const aList = expectOk(t, await api(server, 'GET', '/users/friends', undefined, a.token), 'a\'s list')
  t.same([...aList].sort((x: any, y: any) => x.userId.localeCompare(y.userId)),
    [{ userId: b.userId, username: `user-${b.userId}` }, { userId: c.userId, username: `user-${c.userId}` }].sort((x, y) => x.userId.localeCompare(y.userId)),
    'a sees b and c, as [{userId, username}]')
  t.same(expectOk(t, await api(server, 'GET', '/users/friends', undefined, b.token), 'b\'s list'), [{ userId: a.userId, username: `user-${a.userId}` }], 'mutual: b sees a')

  expectError(t, await api(server, 'POST', '/users/friends', { friendId: uniqueUserId() }, a.token), 404, 'unknown friend')
  expectError(t, await api(server, 'POST', '/users/friends', { friendId: a.userId }, a.token), 400, 'self')
  expectError(t, await api(server, 'POST', '/users/friends', { friendId: 'x' }, a.token), 400, 'malformed friendId')
  expectError(t, await api(server, 'POST', '/users/friends', {}, a.token), 400, 'missing friendId')
  expectError(t, await api(server, 'POST', '/users/friends', { userId: b.userId, friendId: c.userId }, a.token), 403, 'foreign userId in the body')

  // Removal from either side removes both directions.
  t.equal(expectOk(t, await api(server, 'DELETE', `/users/friends/${a.userId}`, undefined, b.token), 'b removes a'), null)
  t.same(expectOk(t, await api(server, 'GET', '/users/friends', undefined, b.token), 'b\'s list'), [], 'b has none left')
  t.same(expectOk(t, await api(server, 'GET', '/users/friends', undefined, a.token), 'a\'s list').map((f: any) => f.userId), [c.userId], 'a keeps only c')
  expectError(t, await api(server, 'DELETE', `/users/friends/${b.userId}`, undefined, a.token), 404, 'removing a non-friend')
  expectError(t, await api(server, 'DELETE', `/users/friends/${uniqueUserId()}`, undefined, a.token), 404, 'removing an unknown user')
  expectError(t, await api(server, 'DELETE', '/users/friends/0', undefined, a.token), 400, 'malformed friendId in the path')
})

t.test('blacklist', async t => {
  const a = await registerAndLogin(server)
  const b = await registerAndLogin(server)
  t.equal(expectOk(t, await api(server, 'POST', '/users/blacklist', { userId: b.userId }, a.token), 'block'), null)
  expectOk(t, await api(server, 'POST', '/users/blacklist', { userId: b.userId }, a.token), 'blocking twice is harmless')
  expectError(t, await api(server, 'POST', '/users/blacklist', { userId: uniqueUserId() }, a.token), 404, 'block an unknown user')
  expectError(t, await api(server, 'POST', '/users/blacklist', { userId: a.userId }, a.token), 400, 'block self')
  expectError(t, await api(server, 'POST', '/users/blacklist', { userId: '-3' }, a.token), 400, 'malformed userId')
  expectError(t, await api(server, 'POST', '/users/blacklist', {}, a.token), 400, 'missing userId')
  t.equal(expectOk(t, await api(server, 'DELETE', `/users/blacklist/${b.userId}`, undefined, a.token), 'unblock'), null)
  expectError(t, await api(server, 'DELETE', `/users/blacklist/${b.userId}`, undefined, a.token), 404, 'unblock a user not blocked')
  expectError(t, await api(server, 'DELETE', '/users/blacklist/abc', undefined, a.token), 400, 'malformed userId in the path')
})

t.test('admin status: ban, unban, mute', async t => {
  const { userId, token } = await registerAndLogin(server)
  const path = `/admin/users/${userId}/status`

  expectError(t, await api(server, 'POST', path, { status: 2 }), 401, 'no admin token')
  expectError(t, await api(server, 'POST', path, { status: 2 }, 'wrong-admin-token-0123456789'), 401, 'wrong admin token')
  expectError(t, await api(server, 'POST', path, { status: 2 }, token), 401, 'a user token is not the admin token')
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, token), 'refused admin calls changed nothing')

  expectError(t, await api(server, 'POST', path, { status: 3 }, ADMIN_TOKEN), 400, 'status 3')
  expectError(t, await api(server, 'POST', path, {}, ADMIN_TOKEN), 400, 'missing status')
  expectError(t, await api(server, 'POST', path, { status: 1, mutedUntil: 'soon' }, ADMIN_TOKEN), 400, 'mutedUntil not a time')
  expectError(t, await api(server, 'POST', `/admin/users/${uniqueUserId()}/status`, { status: 2 }, ADMIN_TOKEN), 404, 'unknown user')
  expectError(t, await api(server, 'POST', '/admin/users/abc/status', { status: 2 }, ADMIN_TOKEN), 400, 'malformed userId')

  const banned = expectOk(t, await api(server, 'POST', path, { status: 2 }, ADMIN_TOKEN), 'ban')
  t.equal(banned.userId, userId)
  t.equal(banned.status, 2)
  const afterBan = await api(server, 'GET', '/users/friends', undefined, token)
  expectError(t, afterBan, 401, 'the banned user\'s existing token')
  expectError(t, await api(server, 'POST', '/users/login', { userId, password: DEFAULT_PASSWORD }), 403, 'a banned user logging in')
  const other = await registerAndLogin(server)
  t.equal(expectOk(t, await api(server, 'GET', `/users/info/${userId}`, undefined, other.token), 'info of the banned user').status, 2, 'info shows status 2')

  const unbanned = expectOk(t, await api(server, 'POST', path, { status: 1 }, ADMIN_TOKEN), 'unban')
  t.same(unbanned, { userId, status: 1, mutedUntil: null })
  expectError(t, await api(server, 'GET', '/users/friends', undefined, token), 401, 'a token revoked by the ban stays revoked')
  const newToken = await login(server, userId)
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, newToken), 'login works again after unban')

  const until = new Date(Date.now() + 3600_000)
  const muted = expectOk(t, await api(server, 'POST', path, { status: 1, mutedUntil: until.toISOString() }, ADMIN_TOKEN), 'mute')
  t.match(muted.mutedUntil, ISO_8601, 'mutedUntil is ISO 8601')
  t.equal(Date.parse(muted.mutedUntil), until.getTime(), 'the time given')
  const offset = expectOk(t, await api(server, 'POST', path, { status: 1, mutedUntil: '2031-01-02T03:04:05+02:00' }, ADMIN_TOKEN), 'mute with an offset')
  t.equal(Date.parse(offset.mutedUntil), Date.parse('2031-01-02T01:04:05Z'), 'an offset time is understood')
  expectOk(t, await api(server, 'GET', '/users/friends', undefined, newToken), 'muting does not revoke tokens')
  const kept = expectOk(t, await api(server, 'POST', path, { status: 1 }, ADMIN_TOKEN), 'status without mutedUntil')
  t.equal(Date.parse(kept.mutedUntil), Date.parse('2031-01-02T01:04:05Z'), 'omitting mutedUntil leaves the mute in force')
  t.equal(expectOk(t, await api(server, 'POST', path, { status: 1, mutedUntil: null }, ADMIN_TOKEN), 'unmute').mutedUntil, null)
  t.equal(expectOk(t, await api(server, 'POST', path, { status: 1 }, ADMIN_TOKEN), 'status again').mutedUntil, null, 'and a lifted mute stays lifted')
})

t.test('authenticated requests beyond IMPLUS_HTTP_RATE_LIMIT per user get 429; other users are served', async t => {
  const limited = await startServer({ env: { IMPLUS_HTTP_RATE_LIMIT: '5' } })
  t.teardown(() => limited.stop())
  const busy = await registerAndLogin(limited)
  const calm = await registerAndLogin(limited)
  // Sixty at once: at most 5 pass in each one-second window the burst spans (same clock as the server).
  const started = Date.now()
  const responses = await Promise.all(Array.from({ length: 60 }, () => api(limited, 'GET', '/users/friends', undefined, busy.token)))
  const windows = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1
  const statuses = responses.map(r => r.status)
  const passed = statuses.filter(s => s === 200).length
  t.ok(passed >= 5 && passed <= 5 * windows, `${passed} passed: at least 5, at most 5 in each of the ${windows} window(s) the burst spanned`)
  t.equal(statuses.filter(s => s === 429).length, 60 - passed, 'the rest get 429, nothing else')
  const refused = responses.find(r => r.status === 429)!
  expectError(t, refused, 429, 'a refused request')
  t.equal(refused.headers.get('retry-after'), '1', 'it says when to retry: the next one-second window')
  t.notOk(responses.find(r => r.status === 200)!.headers.has('retry-after'), 'an answer that was served carries no Retry-After')
  // The SDK hands it on: forty at once do not all fit in the windows they span (5 each; 8 windows would take 7 s).
  const sdk = new ImHttpClient(limited.httpUrl)
  sdk.token = busy.token
  const outcomes = await Promise.all(Array.from({ length: 40 }, async () => await sdk.friends().then(() => null, (err: unknown) => err)))
  const sdkRefused = outcomes.find((e): e is ImHttpError => e instanceof ImHttpError)
  t.match(sdkRefused, { status: 429, retryAfterSeconds: 1 }, 'the SDK\'s ImHttpError carries retryAfterSeconds')
  expectOk(t, await api(limited, 'GET', '/users/friends', undefined, calm.token), 'another user is served')
  const health = await fetch(`${limited.httpUrl}/healthz`)
  t.equal(health.status, 200, 'health is not limited')
  await health.text()
})

t.test('malformed requests', async t => {
  const { token } = await registerAndLogin(server)
  expectError(t, await api(server, 'POST', '/users/register', '{"userId": "5", ', undefined), 400, 'malformed JSON')
  expectError(t, await api(server, 'POST', '/users/login', '[1,2]', undefined), 400, 'a JSON array body')
  expectError(t, await api(server, 'POST', '/users/friends', 'not json', token), 400, 'malformed JSON with a token')

  const big = JSON.stringify({ userId: uniqueUserId(), username: 'x', password: DEFAULT_PASSWORD, pad: 'x'.repeat(70 * 1024) })
  expectError(t, await api(server, 'POST', '/users/register', big), 413, 'a body over 64 KiB')
  // Without Content-Length (chunked), the limit still holds while streaming.
  const chunked = new ReadableStream<Uint8Array>({
    start (controller) {
      for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode(' '.repeat(8192)))
      controller.close()
    }
  })
  const res = await fetch(`${server.httpUrl}/users/register`, { method: 'POST', body: chunked, duplex: 'half', headers: { 'content-type': 'application/json' } } as RequestInit)
  const body = await res.json() as any
  t.equal(res.status, 413, 'a chunked body over 64 KiB: HTTP 413')
  t.equal(body.code, 413, 'envelope code 413')

  const unknown = await api(server, 'GET', '/no/such/route')
  expectError(t, unknown, 404, 'unknown route')
  t.equal(unknown.body.data, null, 'unknown route: envelope data null')
  t.match(unknown.headers.get('content-type'), /application\/json/, 'unknown route answers JSON')
  expectError(t, await api(server, 'POST', '/users/nothing', {}), 404, 'unknown POST route')
  expectError(t, await api(server, 'PUT', '/users/register', {}), 404, 'a method the route does not have')
})

// Kept last: while the server has this bug, the request kills the shared server.
t.test('malformed percent-encoding in a path parameter is a 400, not a crash', async t => {
  const { token } = await registerAndLogin(server)
  const res = await api(server, 'GET', '/users/info/%ZZ', undefined, token).catch((err: Error) => ({ status: -1, body: { code: -1, message: String(err.cause ?? err) }, headers: new Headers() }))
  expectError(t, res, 400, 'GET /users/info/%ZZ')
  const health = await api(server, 'GET', '/healthz').catch((err: Error) => ({ status: -1, body: String(err.cause ?? err) }))
  t.equal(health.status, 200, `the server is still up (${server.stderr().split('\n').find(l => /Error/.test(l)) ?? 'no error on stderr'})`)
})
