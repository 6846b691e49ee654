// TLS end to end with a self-signed certificate made here (openssl): the server terminates HTTPS and WSS
// (uWS's SSL app) and TLS on its TCP port from IMPLUS_TLS_CERT / IMPLUS_TLS_KEY; server-info names wss://
// and tls:// addresses; the SDK (WebSocket and TCP, addresses discovered), the CLI and the web page in
// Chromium work over them. Node clients run as child processes trusting the certificate through
// NODE_EXTRA_CA_CERTS, as a user with a private CA would; plain HTTP and plain TCP are refused. The key is
// encrypted (IMPLUS_TLS_KEY_PASSPHRASE), which both uWS's SSL app and node:tls must open.
import t from 'tap'
import { connect as connectTcp } from 'node:net'
import { join } from 'node:path'
import { encodeLengthPrefixed, encodeFrame, MessageType } from '@implus/client/wire'
import { webPageOnline } from './helpers/chromium.js'
import { DEFAULT_PASSWORD, makeTempDir, runToExit, startServer, uniqueUserId, type TestServer } from './helpers/server.js'
import { cliTrusting, httpsGet, makeSelfSignedCertificate, nodeTrusting, type NodeRun } from './helpers/tls.js'

const dir = makeTempDir('implus-tls-')
const CERT = join(dir, 'cert.pem')
const KEY = join(dir, 'key.pem')
const PASSPHRASE = 'a passphrase for the test key'
let server: TestServer
let base: string

t.before(async () => {
  makeSelfSignedCertificate(CERT, KEY, PASSPHRASE)
  server = await startServer({ env: { IMPLUS_TLS_CERT: CERT, IMPLUS_TLS_KEY: KEY, IMPLUS_TLS_KEY_PASSPHRASE: PASSPHRASE, IMPLUS_PRIVATE_CHAT: 'open' } })
  base = `https://localhost:${server.ports.http}`
})
t.teardown(async () => { await server?.stop() })

async function getJson (url: string): Promise<{ status: number, body: any }> {
  const { status, text } = await httpsGet(url, CERT)
  return { status, body: JSON.parse(text) }
}

/** Runs ESM code in a Node that trusts the test certificate. */
function node (code: string, args: string[] = []): Promise<NodeRun> {
  return nodeTrusting(CERT, code, args)
}

t.test('HTTPS answers, server-info names wss:// and tls://, the start line says https', async t => {
  const info = await getJson(`${base}/api/server-info`)
  t.equal(info.status, 200)
  t.equal(info.body.data.tls, true)
  t.equal(info.body.data.websocket.url, `wss://localhost:${server.ports.ws}/websocket`)
  t.equal(info.body.data.tcp.url, `tls://localhost:${server.ports.tcp}`)
  t.match(server.logs.find(l => l.msg === 'implus listening'), { http: `https://127.0.0.1:${server.ports.http}`, ws: `wss://127.0.0.1:${server.ports.ws}/websocket`, tcp: `tls://127.0.0.1:${server.ports.tcp}` })
  await t.rejects(fetch(`http://127.0.0.1:${server.ports.http}/healthz`), 'plain HTTP on the HTTPS port gets no answer')
})

t.test('plain TCP on the TLS port gets no session', async t => {
  const socket = connectTcp({ host: '127.0.0.1', port: server.ports.tcp! })
  const received: Buffer[] = []
  socket.on('data', chunk => received.push(chunk))
  socket.on('error', () => {})
  await new Promise(resolve => socket.once('connect', resolve))
  socket.write(encodeLengthPrefixed(encodeFrame({ type: MessageType.HEARTBEAT })))
  await new Promise(resolve => socket.once('close', resolve))
  t.notOk(received.some(b => b.length > 0 && b[0] !== 0x15 && b[0] !== 0x16), 'nothing but TLS records came back (an alert), then the connection closed')
})

t.test('the SDK over WSS and TLS (addresses from server-info), the CLI over HTTPS', async t => {
  const [a, b] = [uniqueUserId(), uniqueUserId()]
  const sdk = await node(`
    import { ImClient, ImHttpClient } from '@implus/client'
    const [base, a, b, password] = process.argv.slice(1)
    const api = new ImHttpClient(base)
    for (const id of [a, b]) await api.register({ userId: id, username: 'u' + id, password })
    const ta = await new ImHttpClient(base).login(a, password)
    const tb = await new ImHttpClient(base).login(b, password)
    const A = await ImClient.connect({ httpUrl: base, userId: a, token: ta.token })
    const B = await ImClient.connect({ httpUrl: base, transport: 'tcp', userId: b, token: tb.token })
    const got = new Promise(resolve => B.on('message', m => resolve(m.content)))
    const receipt = await A.sendPrivate(b, 'over wss, to tls')
    const back = await B.sendPrivate(a, 'and back')
    console.log(JSON.stringify({ content: await got, receipt: receipt.msgId !== '', back: back.msgId !== '' }))
    await A.close(); await B.close()
    process.exit(0)
  `, [base, a, b, DEFAULT_PASSWORD])
  t.equal(sdk.code, 0, `the SDK script ran (${sdk.stderr})`)
  t.same(JSON.parse(sdk.stdout), { content: 'over wss, to tls', receipt: true, back: true }, 'a message went over WSS and arrived over TLS')

  const home = makeTempDir('implus-cli-')
  const cli = (...args: string[]): Promise<NodeRun> => cliTrusting(CERT, home, base, args)
  let r = await cli('login', a, DEFAULT_PASSWORD)
  t.equal(r.code, 0, `CLI login over HTTPS: ${r.stderr}`)
  r = await cli('send', b, 'from the cli over wss')
  t.equal(r.code, 0, `CLI send over WSS (discovered): ${r.stderr}`)
  t.match(r.stdout, /^sent \d+ to private_/)
})

t.test('the web page over HTTPS connects over WSS', async t => {
  const user = uniqueUserId()
  const made = await node(`
    import { ImHttpClient } from '@implus/client'
    const [base, id, password] = process.argv.slice(1)
    await new ImHttpClient(base).register({ userId: id, username: 'web' + id, password })
  `, [base, user, DEFAULT_PASSWORD])
  t.equal(made.code, 0, `registered (${made.stderr})`)
  const sockets = await webPageOnline(t, `${base}/`, user, DEFAULT_PASSWORD)
  t.ok(sockets.some(u => u.startsWith(`wss://localhost:${server.ports.ws}/websocket`)), `the page's socket is WSS (${sockets.join(' ')})`)
})

t.test('a certificate that cannot be read stops the server with one line', async t => {
  const { code, stderr } = await runToExit({ IMPLUS_TLS_CERT: join(dir, 'missing.pem'), IMPLUS_TLS_KEY: KEY })
  t.equal(code, 1)
  t.match(stderr, /^implus: IMPLUS_TLS_CERT: cannot read .*missing\.pem \(ENOENT\)\n$/)
  const half = await runToExit({ IMPLUS_TLS_CERT: CERT })
  t.equal(half.code, 1)
  t.match(half.stderr, /IMPLUS_TLS_CERT and IMPLUS_TLS_KEY go together/)
})

t.test('an encrypted key without its passphrase, or with a wrong one, stops the server with one line', async t => {
  for (const passphrase of ['', 'not the passphrase']) {
    const { code, stderr } = await runToExit({ IMPLUS_TLS_CERT: CERT, IMPLUS_TLS_KEY: KEY, IMPLUS_TLS_KEY_PASSPHRASE: passphrase })
    t.equal(code, 1, `passphrase ${JSON.stringify(passphrase)}: exit 1`)
    t.match(stderr, /^implus: IMPLUS_TLS_CERT \/ IMPLUS_TLS_KEY: not a usable certificate and key \(.+\)\n$/)
  }
})
