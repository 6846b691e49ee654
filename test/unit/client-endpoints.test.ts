// Socket URLs (packages/client/src/endpoint.ts) and token renewal timing (token-keeper.ts), on a fake clock.
import t from 'tap'
import { endpointUrl, jwtExpiry, parseEndpoint, webSocketUrl } from '@implus/client'
import { TokenKeeper, type TokenGrant } from '../../packages/client/src/token-keeper.js'
import { FakeScheduler, settle } from '../helpers/fake-scheduler.js'

t.test('socket URLs name transport, TLS, host, port and path', async (t) => {
  t.same(parseEndpoint('wss://chat.example.com/websocket'), { transport: 'ws', host: 'chat.example.com', port: 443, tls: true, path: '/websocket' })
  t.same(parseEndpoint('ws://127.0.0.1:8902/im/websocket?x=1'), { transport: 'ws', host: '127.0.0.1', port: 8902, tls: false, path: '/im/websocket?x=1' })
  t.same(parseEndpoint('tls://[::1]:8900'), { transport: 'tcp', host: '::1', port: 8900, tls: true, path: '' })
  t.same(parseEndpoint('tcp://h:1'), { transport: 'tcp', host: 'h', port: 1, tls: false, path: '' })
  t.same(parseEndpoint('udp://h:8901'), { transport: 'udp', host: 'h', port: 8901, tls: false, path: '' })
  for (const url of ['wss://chat.example.com/websocket', 'tls://[::1]:8900', 'udp://h:8901', 'ws://h:80/websocket']) {
    t.same(parseEndpoint(endpointUrl(parseEndpoint(url))), parseEndpoint(url), `${url} round-trips`)
  }
  t.throws(() => parseEndpoint('tcp://h'), /needs a port/)
  t.throws(() => parseEndpoint('https://h/websocket'), /unsupported socket URL scheme https:/)
  t.throws(() => parseEndpoint('not a url'), /not a socket URL/)
  t.equal(webSocketUrl({ host: 'h', port: 443, tls: true, path: '/websocket', token: 'a b' }), 'wss://h/websocket?token=a+b', 'wss with the token as a query parameter')
  t.equal(webSocketUrl({ host: '::1', port: 8902 }), 'ws://[::1]:8902/websocket', 'plain ws, default path')
})

function jwt (claims: object): string {
  return `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`
}

t.test('a JWT says when it expires', async (t) => {
  t.equal(jwtExpiry(jwt({ sub: '1', exp: 2_000_000_000 })), 2_000_000_000_000)
  t.equal(jwtExpiry(jwt({ sub: '1' })), null, 'no exp')
  t.equal(jwtExpiry('opaque-token'), null, 'not a JWT')
  t.equal(jwtExpiry('a.!!!.c'), null, 'garbage')
})

t.test('renewal: at 80 % of the life, at least 30 s before the end; one call at a time; retried while it lasts', async (t) => {
  const clock = new FakeScheduler()
  clock.advance(1_000_000)
  const calls: string[] = []
  const renewed: TokenGrant[] = []
  const errors: Error[] = []
  let next: () => Promise<TokenGrant> = async () => ({ token: `t${calls.length}`, expiresAt: clock.now() + 100_000 })
  const keeper = new TokenKeeper({
    grant: { token: 't0', expiresAt: clock.now() + 1_000_000 },
    refresh: (current) => { calls.push(current); return next() },
    scheduler: clock,
    onRefreshed: (grant) => renewed.push(grant),
    onError: (error) => errors.push(error),
  })
  t.same(clock.pending, [800_000], 'a 1000 s token is renewed after 800 s')
  clock.advance(800_000)
  await settle()
  t.same(calls, ['t0'], 'renewed with the current token')
  t.equal(keeper.token, 't1')
  t.same(clock.pending, [70_000], 'a 100 s token: 30 s before its end (80 % would be later)')

  // Two needs at once (a 401 and the timer) share one call.
  const both = await Promise.all([keeper.refresh(), keeper.refresh()])
  t.same(both, ['t2', 't2'])
  t.equal(calls.length, 2, 'one call for both')

  next = async () => { throw new Error('auth service down') }
  clock.advance(70_000)
  await settle()
  t.equal(errors.length, 1, 'a failed renewal is reported')
  t.equal(keeper.token, 't2', 'the old token stays in use')
  t.same(clock.pending, [5_000], 'and it is tried again in 5 s, while the token lasts')
  next = async () => ({ token: 't9' } as TokenGrant)
  clock.advance(5_000)
  await settle()
  t.equal(keeper.token, 't9')
  t.same(clock.pending, [], 'a token of unknown expiry (not a JWT, no expiresAt) waits for a 401')
  t.same(renewed.map((g) => g.token), ['t1', 't2', 't9'])
  keeper.stop()
  next = async () => ({ token: 't10', expiresAt: clock.now() + 100_000 })
  t.equal(await keeper.refresh(), 't10', 'stopped: a renewal on demand (a 401 on the HTTP API) still works')
  t.same(clock.pending, [], 'but nothing is scheduled any more')
})

t.test('without a callback nothing is scheduled and a renewal is refused', async (t) => {
  const clock = new FakeScheduler()
  const keeper = new TokenKeeper({ grant: { token: jwt({ exp: 10 }) }, refresh: undefined, scheduler: clock, onRefreshed: () => {}, onError: () => {} })
  t.same(clock.pending, [])
  t.equal(keeper.expiresAt, 10_000, 'expiry read from the JWT')
  t.notOk(keeper.canRefresh)
  await t.rejects(keeper.refresh(), /no refreshToken callback/)
})
