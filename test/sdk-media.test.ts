// ImClient's files (packages/client: media.ts, ImHttpClient.upload/download/fileUrl, sendPrivateFile and
// sendGroupFile) against a real server: one call uploads with progress and sends the message, the receiver
// gets the server-completed document and downloads the same bytes, refusals come back as errors and send
// nothing. The browser path (XMLHttpRequest) runs in test/web.test.ts.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { openAsBlob } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { makeTempDir, registerAndLogin, startServer, type TestServer } from './helpers/server.js'
import { photo } from './helpers/media-suite.js'
import { ContentType, ImClient, ImHttpError, mediaContent, messagePreview, type ImMessage, type UploadProgress } from '@implus/client'

const MAX_UPLOAD = 2 * 1024 * 1024
let server: TestServer
const clients: ImClient[] = []

t.before(async () => {
  server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_MAX_UPLOAD_BYTES: String(MAX_UPLOAD) } })
})
t.teardown(async () => {
  for (const c of clients) await c.close().catch(() => {})
  await server?.stop()
})

async function connect (user: { userId: string, token: string }): Promise<ImClient> {
  const c = await ImClient.connect({ httpUrl: server.httpUrl, host: '127.0.0.1', port: server.ports.ws!, transport: 'ws', userId: user.userId, token: user.token })
  clients.push(c)
  return c
}

function nextMessage (c: ImClient, test: (m: ImMessage) => boolean): Promise<ImMessage> {
  return new Promise(resolve => {
    const off = c.on('message', m => {
      if (!test(m)) return
      off()
      resolve(m)
    })
  })
}

t.test('a file from disk: one call uploads it with progress and sends it; the receiver downloads the same bytes', async t => {
  const [alice, bob] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const [a, b] = await Promise.all([connect(alice), connect(bob)])
  const bytes = randomBytes(MAX_UPLOAD - 1000)
  const path = join(makeTempDir('implus-sdk-media-'), 'minutes.bin')
  await writeFile(path, bytes)
  const progress: UploadProgress[] = []
  const arrived = nextMessage(b, m => m.contentType === ContentType.FILE)
  const { file, receipt } = await a.sendPrivateFile(bob.userId, await openAsBlob(path), { name: 'minutes 2026.bin', onProgress: p => progress.push(p) })
  t.match(file, { name: 'minutes 2026.bin', size: bytes.length, mimeType: 'application/octet-stream', width: null })
  t.match(receipt.msgId, /^\d+$/, 'sent, with a receipt')
  t.ok(progress.length > 1, `progress reported ${progress.length} times`)
  t.ok(progress.every((p, i) => p.total === bytes.length && (i === 0 || p.loaded > progress[i - 1]!.loaded)), 'loaded grows, total is the size')
  t.equal(progress.at(-1)!.loaded, bytes.length, 'and reaches the whole file')

  const message = await arrived
  t.equal(message.msgId, receipt.msgId)
  const doc = mediaContent(message)
  t.same(doc, { fileId: file.fileId, name: 'minutes 2026.bin', size: bytes.length, mimeType: 'application/octet-stream' }, 'the receiver gets the document, completed by the server')
  const { conversations: [summary] } = await b.http.syncConversations()
  t.match(summary, { lastMsgId: receipt.msgId, lastMsgContentType: ContentType.FILE, lastMsgContent: message.content }, 'the conversation list names the last message\'s content type')
  t.equal(messagePreview({ contentType: summary!.lastMsgContentType, content: summary!.lastMsgContent }), '[file] minutes 2026.bin', 'so it is previewed by kind and name, not as its JSON document')
  const response = await b.http.download(doc!.fileId)
  t.same(Buffer.from(await response.arrayBuffer()), bytes, 'the same bytes')
  const part = await b.http.download(doc!.fileId, { headers: { range: 'bytes=10-19' } })
  t.same([part.status, Buffer.from(await part.arrayBuffer())], [206, bytes.subarray(10, 20)], 'a range')
})

t.test('an image as a browser would hand it (a File): sent as an image, thumbnail and signed URL for <img src>', async t => {
  const [alice, bob] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const [a, b] = await Promise.all([connect(alice), connect(bob)])
  const group = await a.http.createGroup({ conversationName: 'photos', members: [bob.userId] })
  const png = await photo(400, 300)
  const arrived = nextMessage(b, m => m.conversationId === group && m.contentType === ContentType.IMAGE)
  const { file } = await a.sendGroupFile(group, new File([png], 'holiday.png'))
  t.match(file, { name: 'holiday.png', mimeType: 'image/png', width: 400, height: 300 })
  const doc = mediaContent(await arrived)
  t.match(doc, { fileId: file.fileId, width: 400, height: 300, thumbnailId: file.thumbnailId }, 'a group member gets an image message with its thumbnail')
  const signed = await b.http.fileUrl(doc!.thumbnailId!)
  t.ok(signed.url.startsWith(server.httpUrl + '/api/files/'), 'an absolute URL')
  const thumb = await fetch(signed.url)
  t.same([thumb.status, thumb.headers.get('content-type')], [200, 'image/webp'], 'the thumbnail, without a token')
})

t.test('refusals: a too-large upload rejects with 413 and sends nothing; someone else\'s file is a 403', async t => {
  const [alice, bob, carol] = await Promise.all([registerAndLogin(server), registerAndLogin(server), registerAndLogin(server)])
  const a = await connect(alice)
  const before = a.pendingSends
  const big = a.sendPrivateFile(bob.userId, new Uint8Array(MAX_UPLOAD + 1), { name: 'big.bin' })
  await t.rejects(big, { name: 'ImHttpError', status: 413 }, 'too large: ImHttpError 413')
  // Far over the limit the server refuses on Content-Length and closes while Node is still writing: the
  // answer must still be a 413, not a bare "fetch failed" (EPIPE).
  const huge = a.sendPrivateFile(bob.userId, new Uint8Array(15 * MAX_UPLOAD), { name: 'huge.bin' })
  await t.rejects(huge, { name: 'ImHttpError', status: 413, message: /over 2097152 bytes \(IMPLUS_MAX_UPLOAD_BYTES\)/ }, 'far too large: ImHttpError 413 naming the limit, as the server words it')
  t.equal(a.pendingSends, before, 'no message was sent')
  await t.rejects(a.sendPrivateFile(bob.userId, new Uint8Array(10)), TypeError, 'bytes need a name')
  await t.rejects(a.sendPrivateFile(bob.userId, new Uint8Array(10), { name: '../x' }), { status: 400, message: /name/ }, 'a path-like name: 400')

  const mine = await a.http.upload(new Uint8Array([1, 2, 3]), 'mine.bin')
  const c = await connect(carol)
  const refused = await c.http.download(mine.fileId).catch((e: unknown) => e)
  t.ok(refused instanceof ImHttpError && refused.status === 403, 'downloading someone else\'s file: ImHttpError 403')
  await t.rejects(c.http.fileUrl(mine.fileId), { status: 403 }, 'and no signed URL for it')
})
