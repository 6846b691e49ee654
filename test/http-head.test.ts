// HEAD requests and keep-alive, over raw sockets (fetch would hide a dropped connection by retrying
// on a new one): every HEAD answer has its headers and the length the body would have, but no body, and
// the connection stays usable for the next request. On both ports.
import t from 'tap'
import { connect } from 'node:net'
import { registerAndLogin, startServer, type TestServer } from './helpers/server.js'
import { upload } from './helpers/media-suite.js'

interface RawResponse { status: number, headers: Map<string, string>, body: string }

/**
 * Sends the requests one after another on one connection, each once the previous one was answered (not
 * pipelined: uWS closes a connection that pipelines a request behind an API call still in progress), and
 * reads one answer each. A HEAD answer has no body whatever its Content-Length says (RFC 9110 9.3.2);
 * bytes the server wrongly sent after it would be read as the next answer's status line and fail the parse.
 */
async function oneConnection (port: number, requests: Array<{ method: string, path: string, headers?: Record<string, string> }>): Promise<RawResponse[]> {
  const socket = connect(port, '127.0.0.1')
  const send = (i: number): void => {
    const r = requests[i]!
    socket.write(`${r.method} ${r.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(r.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`)
  }
  send(0)
  let buffer = Buffer.alloc(0)
  const answers: RawResponse[] = []
  return await new Promise((resolve, reject) => {
    const timer: NodeJS.Timeout = setTimeout(() => fail('no answer within 20 s'), 20_000)
    function fail (why: string): void {
      clearTimeout(timer)
      socket.destroy()
      reject(new Error(`${why} after ${answers.length} of ${requests.length} answers; unread: ${JSON.stringify(buffer.toString('latin1').slice(0, 300))}`))
    }
    socket.on('data', chunk => {
      buffer = Buffer.concat([buffer, chunk])
      const end = buffer.indexOf('\r\n\r\n')
      if (end === -1) return
      const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n')
      const match = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine!)
      if (match === null) return fail(`not a status line: ${JSON.stringify(statusLine)}`)
      const headers = new Map(lines.map(l => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
      const bodyLength = requests[answers.length]!.method === 'HEAD' ? 0 : Number(headers.get('content-length') ?? 0)
      if (buffer.length < end + 4 + bodyLength) return
      answers.push({ status: Number(match[1]), headers, body: buffer.subarray(end + 4, end + 4 + bodyLength).toString('utf8') })
      buffer = buffer.subarray(end + 4 + bodyLength)
      if (buffer.length > 0) return fail('bytes after an answer')
      if (answers.length < requests.length) return send(answers.length)
      clearTimeout(timer)
      socket.end()
      resolve(answers)
    })
    socket.on('close', () => { if (answers.length < requests.length) fail('connection closed') })
    socket.on('error', err => fail(err.message))
  })
}

let server: TestServer
t.before(async () => { server = await startServer() })
t.teardown(async () => { await server?.stop() })

t.test('HTTP port: HEAD answers carry no body and keep the connection', async t => {
  const alice = await registerAndLogin(server)
  const stored = await upload(server, alice.token, 'note.txt', new TextEncoder().encode('hello, head'))
  t.equal(stored.status, 200, 'a file to ask about')
  const fileId = stored.body.data.fileId as string
  const auth = { authorization: `Bearer ${alice.token}` }
  const answers = await oneConnection(server.ports.http!, [
    { method: 'HEAD', path: '/healthz' },
    { method: 'HEAD', path: '/readyz' },
    { method: 'HEAD', path: `/api/files/${fileId}`, headers: auth },
    { method: 'HEAD', path: '/api/files/123' },
    { method: 'HEAD', path: '/no/such/path' },
    { method: 'GET', path: `/api/files/${fileId}`, headers: { ...auth, 'if-none-match': `"${stored.body.data.sha256 as string}"` } },
    { method: 'GET', path: '/favicon.ico' },
    { method: 'GET', path: '/healthz' }
  ])
  t.same(answers.map(a => a.status), [200, 200, 200, 401, 404, 304, 204, 200], 'eight answers on one connection')
  t.equal(answers[0]!.headers.get('content-length'), '3', 'HEAD /healthz: the length of "ok\\n"')
  t.equal(answers[1]!.headers.get('content-length'), '6', 'HEAD /readyz: the length of "ready\\n"')
  t.equal(answers[2]!.headers.get('content-length'), '11', 'HEAD of a file: its length')
  t.match(answers[3]!.headers.get('content-type'), /^application\/json/, 'a refused HEAD: the envelope\'s headers')
  t.ok(Number(answers[3]!.headers.get('content-length')) > 0, '... and its length, without the envelope')
  t.notOk(answers[5]!.headers.has('content-length'), '304: no Content-Length (it would have to be the file\'s, RFC 9110 8.6)')
  t.notOk(answers[6]!.headers.has('content-length'), '204: no Content-Length')
  t.equal(answers[7]!.body, 'ok\n', 'the GET behind them gets its body')
})

t.test('WebSocket port: HEAD and GET without an upgrade, on one connection', async t => {
  const answers = await oneConnection(server.ports.ws!, [
    { method: 'HEAD', path: '/websocket' },
    { method: 'GET', path: '/websocket' },
    { method: 'GET', path: '/elsewhere' }
  ])
  t.same(answers.map(a => a.status), [426, 426, 404])
  t.equal(answers[1]!.headers.get('upgrade'), 'websocket', '426 names the protocol')
  t.equal(answers[1]!.headers.get('connection'), 'upgrade', '... with Connection: upgrade (RFC 9110 7.8)')
  t.equal(answers[0]!.headers.get('content-length'), String(Buffer.byteLength(answers[1]!.body)), 'HEAD: the length GET\'s body has')
  t.match(answers[2]!.body, /at \/websocket/, 'another path is told where WebSockets go')
})
