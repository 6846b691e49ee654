// deploy/nginx.conf as shipped, in front of two implus hosts in cluster mode (one PostgreSQL, one real
// redis-server, S3 via s3rver), run by Debian's nginx with a self-signed certificate made here. The file is
// rendered only with this machine's ports, host addresses and paths (test/helpers/nginx.ts); `nginx -t`
// passes on it, and clients use nothing but nginx's public addresses, which the hosts announce in
// GET /api/server-info (IMPLUS_PUBLIC_*_URL, as deploy/README.md says to set them).
//
// nginx picks a host by hashing the client's address, and every client here comes from 127.0.0.1: so the
// rendering gives the WebSocket upstream host A only and the TCP and UDP upstreams host B only (the HTTP
// upstream gets both). A user on wss:// is then on A and a user on tls:// on B, which the hosts' own
// presence announcements on Redis confirm, and their messages cross hosts through Redis as in production.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_PASSWORD, freePort, makeTempDir, readSecrets, startServer, uniqueUserId, type TestServer } from './helpers/server.js'
import { killAllRedis, startRedis } from './helpers/redis.js'
import { startS3, stopS3, type S3Server } from './helpers/s3.js'
import { PresenceWatch } from './helpers/presence.js'
import { reservePorts, startNginx, type Nginx } from './helpers/nginx.js'
import { webPageOnline } from './helpers/chromium.js'
import { cliTrusting, httpsGet, nodeTrusting, type NodeRun } from './helpers/tls.js'

const NODE = { A: 'nginx-a', B: 'nginx-b' }

let s3: S3Server
let presence: PresenceWatch
let A: TestServer
let B: TestServer
let nginx: Nginx
/** nginx's listeners on this machine, by the port the shipped file names. */
const front: Record<number, number> = {}

t.before(async () => {
  s3 = await startS3()
  const redis = await startRedis()
  presence = await PresenceWatch.start(redis.url)

  // nginx's addresses are known before the hosts start (they announce them); held until nginx binds them.
  const reserved = await reservePorts(6, 1)
  ;[front[443], front[80], front[8443], front[8080], front[8902], front[8900]] = reserved.tcp
  front[8901] = reserved.udp[0]!

  const common = {
    ...s3.env,
    REDIS_URL: redis.url,
    IMPLUS_JWT_SECRET: 'nginx-test-jwt-secret-0123456789abcdef',
    IMPLUS_SHARDS: '2',
    IMPLUS_PRIVATE_CHAT: 'open',
    IMPLUS_PUBLIC_WS_URL: `wss://localhost:${front[443]}/websocket`,
    IMPLUS_PUBLIC_TCP_URL: `tls://localhost:${front[8443]}`,
    IMPLUS_PUBLIC_UDP_URL: `udp://localhost:${front[8901]}`
  }
  const pgPort = await freePort()
  A = await startServer({ env: { ...common, IMPLUS_NODE_ID: NODE.A, IMPLUS_EMBEDDED_PG_PORT: String(pgPort) } })
  const databaseUrl = `postgres://postgres:${encodeURIComponent(readSecrets(A.dataDir).embeddedPgPassword)}@127.0.0.1:${pgPort}/implus`
  B = await startServer({ env: { ...common, IMPLUS_NODE_ID: NODE.B, DATABASE_URL: databaseUrl } })

  const at = (host: TestServer, kind: 'http' | 'ws' | 'tcp' | 'udp'): string => `127.0.0.1:${host.ports[kind]!}`
  nginx = await startNginx({
    listen: front,
    upstreams: {
      implus_tcp: [at(B, 'tcp')],
      implus_udp: [at(B, 'udp')],
      implus_ws: [at(A, 'ws')],
      implus_http: [at(A, 'http'), at(B, 'http')]
    }
  }, reserved.release)
})

t.teardown(async () => {
  await nginx?.stop()
  await B?.stop()
  await A?.stop()
  presence?.stop()
  await killAllRedis()
  if (s3 !== undefined) await stopS3(s3)
})

const https = (): string => `https://localhost:${front[443]}`

t.test('nginx -t accepts the shipped file', async t => {
  t.match(nginx.configTest, /syntax is ok/)
  t.match(nginx.configTest, /test is successful/)
  t.notMatch(nginx.configTest, /\[(emerg|alert|crit|error)\]/, 'no error on the way')
})

t.test('server-info through nginx names nginx\'s wss://, tls:// and udp:// addresses', async t => {
  const info = await httpsGet(`${https()}/api/server-info`, nginx.certFile)
  t.equal(info.status, 200)
  t.match(JSON.parse(info.text).data, {
    websocket: { url: `wss://localhost:${front[443]}/websocket` },
    tcp: { url: `tls://localhost:${front[8443]}` },
    udp: { url: `udp://localhost:${front[8901]}` }
  })
  t.equal(info.headers['strict-transport-security'], 'max-age=31536000')
})

t.test('users on different hosts chat and share a file through nginx: wss:// to A, tls:// and udp:// to B', async t => {
  const [a, b, c] = [uniqueUserId(), uniqueUserId(), uniqueUserId()]
  const run = await nodeTrusting(nginx.certFile, `
    import { ImClient, ImHttpClient, mediaContent } from '@implus/client'
    import { randomBytes } from 'node:crypto'
    const [base, a, b, c, password] = process.argv.slice(1)
    const tokens = {}
    for (const id of [a, b, c]) {
      const api = new ImHttpClient(base)
      await api.register({ userId: id, username: 'n' + id, password })
      tokens[id] = (await api.login(id, password)).token
    }
    // Addresses from server-info (through nginx): nothing but httpUrl is configured.
    const A = await ImClient.connect({ httpUrl: base, userId: a, token: tokens[a] })
    const B = await ImClient.connect({ httpUrl: base, transport: 'tcp', userId: b, token: tokens[b] })
    const C = await ImClient.connect({ httpUrl: base, transport: 'udp', userId: c, token: tokens[c] })
    const next = (client, from) => new Promise(resolve => {
      const off = client.on('message', m => { if (m.fromUserId === from) { off(); resolve(m) } })
    })
    const contents = []
    for (const [sender, receiver, to, content] of [[A, B, b, 'A over wss to B over tls'], [B, A, a, 'B over tls to A over wss'], [A, C, c, 'A over wss to C over udp'], [C, A, a, 'C over udp to A over wss']]) {
      const arrived = next(receiver, sender.userId)
      await sender.sendPrivate(to, content)
      contents.push((await arrived).content)
    }
    // 1 MiB: over the 64 KiB API body limit, within the upload location's; downloaded back through nginx.
    const bytes = randomBytes(1024 * 1024)
    const arrived = next(B, a)
    await A.sendPrivateFile(b, new Blob([bytes]), { name: 'report.bin' })
    const doc = mediaContent(await arrived)
    const downloaded = Buffer.from(await (await B.http.download(doc.fileId)).arrayBuffer())
    console.log(JSON.stringify({ contents, file: doc.name, sameBytes: downloaded.equals(bytes) }))
    await Promise.all([A.close(), B.close(), C.close()])
    process.exit(0)
  `, [https(), a, b, c, DEFAULT_PASSWORD])
  t.equal(run.code, 0, `the SDK script ran: ${run.stderr}`)
  t.same(JSON.parse(run.stdout), {
    contents: ['A over wss to B over tls', 'B over tls to A over wss', 'A over wss to C over udp', 'C over udp to A over wss'],
    file: 'report.bin',
    sameBytes: true
  }, 'every message arrived; the file went up and came down whole')
  await presence.announced(NODE.A, a, 0)
  await presence.announced(NODE.B, b, 0)
  await presence.announced(NODE.B, c, 0)
  t.pass('the wss:// user was on host A, the tls:// and udp:// users on host B')
})

t.test('the CLI through nginx: https:// and --ws wss://host:port, the path left to its default', async t => {
  const [f, g] = [uniqueUserId(), uniqueUserId()]
  const home = makeTempDir('implus-cli-')
  const cli = (...args: string[]): Promise<NodeRun> => cliTrusting(nginx.certFile, home, https(), args)
  for (const [id, name] of [[g, 'g'], [f, 'f']] as const) t.equal((await cli('register', id, `cli-${name}${id}`, DEFAULT_PASSWORD)).code, 0, `registered ${name}`)
  let r = await cli('login', f, DEFAULT_PASSWORD)
  t.equal(r.code, 0, `login over https: ${r.stderr}`)
  r = await cli('--ws', `wss://localhost:${front[443]}`, 'send', g, 'from the cli')
  t.equal(r.code, 0, `send over wss: ${r.stderr}`)
  t.match(r.stdout, /^sent \d+ to private_/)
  r = await cli('history', g)
  t.equal(r.code, 0, `history over https: ${r.stderr}`)
  t.match(r.stdout, /from the cli/)
})

t.test('the plain listeners (for a private network) pass WebSocket, TCP and HTTP through', async t => {
  const [d, e] = [uniqueUserId(), uniqueUserId()]
  const run = await nodeTrusting(nginx.certFile, `
    import { ImClient, ImHttpClient } from '@implus/client'
    const [plainHttp, ws, tcp, d, e, password] = process.argv.slice(1)
    const login = async id => {
      const api = new ImHttpClient(plainHttp)
      await api.register({ userId: id, username: 'p' + id, password })
      return (await api.login(id, password)).token
    }
    const D = await ImClient.connect({ httpUrl: plainHttp, url: ws, userId: d, token: await login(d) })
    const E = await ImClient.connect({ httpUrl: plainHttp, url: tcp, userId: e, token: await login(e) })
    const arrived = new Promise(resolve => E.on('message', m => resolve(m.content)))
    await D.sendPrivate(e, 'plain ws to plain tcp')
    console.log(JSON.stringify(await arrived))
    await Promise.all([D.close(), E.close()])
    process.exit(0)
  `, [`http://localhost:${front[8080]}`, `ws://localhost:${front[8902]}/websocket`, `tcp://localhost:${front[8900]}`, d, e, DEFAULT_PASSWORD])
  t.equal(run.code, 0, `the SDK script ran: ${run.stderr}`)
  t.equal(JSON.parse(run.stdout), 'plain ws to plain tcp')
  await presence.announced(NODE.A, d, 0)
  await presence.announced(NODE.B, e, 0)
  t.equal((await fetch(`http://localhost:${front[8080]}/metrics`)).status, 404, 'no metrics through the balancer')
  t.equal((await fetch(`http://localhost:${front[8902]}/`)).status, 404, 'nothing but /websocket on the WebSocket port')
})

t.test('the web page is served through nginx over HTTPS and goes online over wss://', async t => {
  const page = await httpsGet(`${https()}/`, nginx.certFile)
  t.equal(page.status, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  const scripts = [...page.text.matchAll(/<script[^>]*\ssrc="([^"]+)"/g)].map(m => m[1]!)
  t.ok(scripts.length > 0, 'the page loads a script')
  for (const src of scripts) {
    const script = await httpsGet(new URL(src, `${https()}/`).href, nginx.certFile)
    t.equal(script.status, 200, `${src} is served`)
    t.match(script.headers['content-type'], /javascript/)
  }
  // In Chromium: the page logs in over https:// and opens its socket at the wss:// address nginx fronts.
  const user = uniqueUserId()
  const registered = await fetch(`http://localhost:${front[8080]}/users/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: user, username: `web${user}`, password: DEFAULT_PASSWORD }) })
  t.equal(registered.status, 200, 'registered')
  const sockets = await webPageOnline(t, `${https()}/`, user, DEFAULT_PASSWORD)
  t.ok(sockets.some(u => u.startsWith(`wss://localhost:${front[443]}/websocket`)), `the page's socket went through nginx (${sockets.join(' ')})`)
  await presence.announced(NODE.A, user, 0)

  const metrics = await httpsGet(`${https()}/metrics`, nginx.certFile)
  t.equal(metrics.status, 404, 'metrics are not published through nginx')
  const plain = await fetch(`http://localhost:${front[80]}/some/page?x=1`, { redirect: 'manual' })
  t.equal(plain.status, 301, 'plain HTTP redirects')
  t.equal(plain.headers.get('location'), 'https://localhost/some/page?x=1')
})

t.test('nginx logged nothing critical while it served all of the above', async t => {
  // worker_rlimit_nofile cannot be raised where the hard limit is lower and the process lacks the right
  // (this machine: 20,000): nginx says so in an alert and carries on. Anything else that grave is a failure.
  const grave = readFileSync(join(nginx.dir, 'logs', 'error.log'), 'utf8').split('\n')
    .filter(line => /\[(emerg|alert|crit)\]/.test(line) && !/setrlimit\(RLIMIT_NOFILE, \d+\) failed/.test(line))
  t.same(grave, [])
})
