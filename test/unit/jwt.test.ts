// Jwt (src/auth/jwt.ts): HS256 only; anything not signed by our secret, or expired, verifies to null.
import t from 'tap'
import { createHmac } from 'node:crypto'
import { Jwt, type TokenClaims } from '../../src/auth/jwt.js'

const SECRET = 'test-secret-0123456789abcdefghijklmnop'
const NOW = 1_750_000_000
const claims: TokenClaims = { sub: '9223372036854775807', iat: NOW, exp: NOW + 86_400, ver: 3 }

const b64 = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const hs256 = (data: string, secret = SECRET): string => createHmac('sha256', secret).update(data).digest('base64url')

t.test('sign then verify returns the claims', async t => {
  t.plan(3)
  const jwt = new Jwt(SECRET)
  const token = jwt.sign(claims)
  t.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'three base64url parts')
  t.same(jwt.verify(token, NOW), claims)
  t.same(new Jwt(SECRET).verify(token, NOW), claims, 'another instance with the same secret (another host) accepts it')
})

t.test('a standard HS256 JWT: header {alg: HS256, typ: JWT}, HMAC-SHA256 over header.payload', async t => {
  t.plan(3)
  const token = new Jwt(SECRET).sign(claims)
  const [header, payload, signature] = token.split('.')
  t.same(JSON.parse(Buffer.from(header, 'base64url').toString()), { alg: 'HS256', typ: 'JWT' })
  t.same(JSON.parse(Buffer.from(payload, 'base64url').toString()), claims)
  t.equal(signature, hs256(`${header}.${payload}`))
})

t.test('expiry: valid until exp, null from exp on', async t => {
  t.plan(4)
  const jwt = new Jwt(SECRET)
  const token = jwt.sign(claims)
  t.ok(jwt.verify(token, claims.exp - 1), 'one second before exp')
  t.equal(jwt.verify(token, claims.exp), null, 'at exp')
  t.equal(jwt.verify(token, claims.exp + 3600), null, 'after exp')
  const old = jwt.sign({ ...claims, iat: 1, exp: 2 })
  t.equal(jwt.verify(old), null, 'default clock: a token from 1970 is expired')
})

t.test('a tampered payload is rejected', async t => {
  t.plan(3)
  const jwt = new Jwt(SECRET)
  const [header, , signature] = jwt.sign(claims).split('.')
  t.equal(jwt.verify(`${header}.${b64({ ...claims, sub: '1' })}.${signature}`, NOW), null, 'other sub')
  t.equal(jwt.verify(`${header}.${b64({ ...claims, exp: NOW + 10 * 86_400 })}.${signature}`, NOW), null, 'later exp')
  t.equal(jwt.verify(`${header}.${b64({ ...claims, ver: 4 })}.${signature}`, NOW), null, 'other version')
})

t.test('a tampered or truncated signature is rejected', async t => {
  t.plan(4)
  const jwt = new Jwt(SECRET)
  const token = jwt.sign(claims)
  const last = token.at(-1) === 'A' ? 'B' : 'A'
  t.equal(jwt.verify(token.slice(0, -1) + last, NOW), null, 'last character changed')
  t.equal(jwt.verify(token.slice(0, -2), NOW), null, 'shortened')
  t.equal(jwt.verify(token + 'AAAA', NOW), null, 'lengthened')
  t.equal(jwt.verify(token.slice(0, token.lastIndexOf('.') + 1), NOW), null, 'empty signature')
})

t.test('a token signed with another secret is rejected', async t => {
  t.plan(2)
  const token = new Jwt('another-secret-0123456789abcdefghijkl').sign(claims)
  t.equal(new Jwt(SECRET).verify(token, NOW), null)
  const [h, p] = token.split('.')
  t.equal(new Jwt(SECRET).verify(`${h}.${p}.${hs256(`${h}.${p}`, SECRET + 'x')}`, NOW), null, 'hand-made with a near miss')
})

t.test('alg none and other algorithms are rejected', async t => {
  t.plan(5)
  const jwt = new Jwt(SECRET)
  const p = b64(claims)
  const none = b64({ alg: 'none', typ: 'JWT' })
  t.equal(jwt.verify(`${none}.${p}.`, NOW), null, 'alg none, empty signature')
  t.equal(jwt.verify(`${none}.${p}`, NOW), null, 'alg none, no signature part')
  t.equal(jwt.verify(`${none}.${p}.${hs256(`${none}.${p}`)}`, NOW), null, 'alg none with a valid HMAC over it')
  const hs512 = b64({ alg: 'HS512', typ: 'JWT' })
  t.equal(jwt.verify(`${hs512}.${p}.${hs256(`${hs512}.${p}`)}`, NOW), null, 'another alg in the header')
  const reordered = b64({ typ: 'JWT', alg: 'HS256' })
  t.equal(jwt.verify(`${reordered}.${p}.${hs256(`${reordered}.${p}`)}`, NOW), null, 'only our exact header is accepted')
})

t.test('correctly signed but malformed claims are rejected', async t => {
  const jwt = new Jwt(SECRET)
  const header = jwt.sign(claims).split('.')[0]
  const forge = (payload: string): string => `${header}.${payload}.${hs256(`${header}.${payload}`)}`
  const cases: [string, string][] = [
    ['not JSON', b64('{not json')],
    ['JSON null', b64('null')],
    ['a number', b64('42')],
    ['no sub', b64({ iat: NOW, exp: NOW + 60, ver: 1 })],
    ['numeric sub', b64({ ...claims, sub: 5 })],
    ['no exp', b64({ sub: '1', iat: NOW, ver: 1 })],
    ['fractional exp', b64({ ...claims, exp: NOW + 0.5 })],
    ['string exp', b64({ ...claims, exp: String(NOW + 60) })],
    ['no ver', b64({ sub: '1', iat: NOW, exp: NOW + 60 })]
  ]
  t.plan(cases.length + 1)
  t.ok(jwt.verify(forge(b64(claims)), NOW), 'the forging helper makes valid tokens')
  for (const [label, payload] of cases) t.equal(jwt.verify(forge(payload), NOW), null, label)
})

t.test('garbage never throws', async t => {
  const jwt = new Jwt(SECRET)
  const inputs = ['', '.', '..', '...', 'abc', 'a.b', 'a.b.c', '.b.c', 'a..c', '\u0000', '😀.😀.😀', 'x'.repeat(10_000)]
  t.plan(inputs.length)
  for (const input of inputs) t.equal(jwt.verify(input, NOW), null, JSON.stringify(input.slice(0, 20)))
})
