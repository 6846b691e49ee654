// Uploads refused before their body was read whole (daily quota, a path-like name, a bad token) reach Node
// clients with the server's status and reason. The server answers at once and then reads and drops the rest
// of the body (docs/protocol.md "Files"): closing with bytes unread would make the kernel reset the
// connection, and Node's fetch, still writing a body of several MiB, would report only "fetch failed"
// (EPIPE) — which it did for most sizes tried here before. The CLI's case is in test/cli.test.ts.
import t from 'tap'
import { connect, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { registerAndLogin, startServer, type TestServer } from './helpers/server.js'
import { ImHttpClient, ImHttpError } from '@implus/client'

const MiB = 1024 * 1024
const MAX_UPLOAD = 64 * MiB
const QUOTA = 4 * MiB
let server: TestServer

t.before(async () => {
  server = await startServer({ env: { IMPLUS_MAX_UPLOAD_BYTES: String(MAX_UPLOAD), IMPLUS_UPLOAD_QUOTA_BYTES: String(QUOTA) } })
})
t.teardown(async () => {
  await server?.stop()
})

async function httpClient (token?: string): Promise<ImHttpClient> {
  const http = new ImHttpClient(server.httpUrl)
  http.token = token ?? (await registerAndLogin(server)).token
  return http
}

t.test('SDK uploads of several MiB over the daily quota reject with ImHttpError 429 and the server\'s reason, every time', async t => {
  const http = await httpClient()
  const first = await http.upload(randomBytes(3 * MiB), 'first.bin')
  t.equal(first.size, 3 * MiB, '3 of the 4 MiB quota used')
  for (const round of [1, 2]) {
    for (const mib of [4, 8, 16, 24, 32]) {
      const refused = await http.upload(new Uint8Array(mib * MiB), `big-${mib}.bin`).catch((e: unknown) => e)
      if (!(refused instanceof ImHttpError)) t.comment(`${mib} MiB: ${String(refused)} (cause: ${String((refused as { cause?: unknown }).cause)})`)
      t.ok(refused instanceof ImHttpError, `${mib} MiB (round ${round}): rejected with an ImHttpError`)
      t.match(refused, { status: 429, message: `daily upload quota reached: ${3 * MiB} of ${QUOTA} bytes used in the last 24 hours (IMPLUS_UPLOAD_QUOTA_BYTES)` }, `${mib} MiB (round ${round}): 429 with the server's reason`)
    }
  }
  const fits = await http.upload(randomBytes(MiB / 2), 'fits.bin')
  t.equal(fits.size, MiB / 2, 'an upload that fits the rest of the quota is still taken')
})

t.test('other refusals before the body is read come through too: a bad token (401), a path-like name (400)', async t => {
  const stranger = await httpClient('not-a-token')
  await t.rejects(stranger.upload(new Uint8Array(16 * MiB), 'holiday.mp4'), { name: 'ImHttpError', status: 401 }, 'a bad token on a 16 MiB body: ImHttpError 401 (so a client can renew its token and retry)')
  const http = await httpClient()
  await t.rejects(http.upload(new Uint8Array(16 * MiB), '../../etc/passwd'), { name: 'ImHttpError', status: 400, message: /name/ }, 'a path-like name on a 16 MiB body: ImHttpError 400 naming the rule')
})

/** A raw HTTP/1.1 connection to the server, and what it has answered so far. */
function rawConnection (): { socket: Socket, answered: () => string, closed: Promise<void>, until: (pattern: RegExp) => Promise<string> } {
  const socket = connect(Number(new URL(server.httpUrl).port), '127.0.0.1')
  let text = ''
  const waiters: (() => void)[] = []
  socket.setEncoding('utf8')
  socket.on('data', chunk => {
    text += chunk
    for (const wake of waiters.splice(0)) wake()
  })
  socket.on('error', () => {})
  const closed = new Promise<void>(resolve => socket.on('close', () => {
    resolve()
    for (const wake of waiters.splice(0)) wake()
  }))
  const until = async (pattern: RegExp): Promise<string> => {
    while (!pattern.test(text)) {
      if (socket.destroyed) throw new Error(`the connection closed; it had answered: ${text}`)
      await new Promise<void>(resolve => waiters.push(resolve))
    }
    return text
  }
  return { socket, answered: () => text, closed, until }
}

/** Writes, waiting while the socket's buffer is full; a connection the server closed fails the test, never hangs it. */
async function write (socket: Socket, data: string | Buffer): Promise<void> {
  if (socket.destroyed) throw new Error('the server closed the connection')
  if (socket.write(data)) return
  await new Promise<void>((resolve, reject) => {
    const onClose = (): void => reject(new Error('the server closed the connection'))
    socket.once('close', onClose)
    socket.once('drain', () => {
      socket.off('close', onClose)
      resolve()
    })
  })
}

t.test('after an early refusal the rest of the body is read and dropped: the same connection answers the next request', async t => {
  const { token } = await registerAndLogin(server)
  const { socket, until } = rawConnection()
  t.teardown(() => socket.destroy())
  await write(socket, `POST /api/files?name=big.bin HTTP/1.1\r\nhost: test\r\nauthorization: Bearer ${token}\r\ncontent-length: ${8 * MiB}\r\n\r\n`)
  const chunk = Buffer.alloc(MiB)
  for (let i = 0; i < 8; i++) await write(socket, chunk)
  await write(socket, 'GET /api/server-info HTTP/1.1\r\nhost: test\r\n\r\n')
  const answers = await until(/"server":"implus"/)
  t.match(answers, /^HTTP\/1\.1 429 [^]*daily upload quota reached[^]*HTTP\/1\.1 200 /, 'over the quota: 429 with its reason, then the next request on the same connection: 200')
})

t.test('a body declared over the size limit is not read: 413 on its Content-Length, then the connection closes', async t => {
  const { token } = await registerAndLogin(server)
  const { socket, answered, closed } = rawConnection()
  t.teardown(() => socket.destroy())
  await write(socket, `POST /api/files?name=huge.bin HTTP/1.1\r\nhost: test\r\nauthorization: Bearer ${token}\r\ncontent-length: ${MAX_UPLOAD + 1}\r\n\r\n`)
  await closed
  t.match(answered(), /^HTTP\/1\.1 413 [^]*IMPLUS_MAX_UPLOAD_BYTES/, '413 naming the limit, before a byte of the body was sent; then the server closed the connection')
})
