// Files and media messages end to end (docs/protocol.md "Files", "Media messages"): one suite, run by
// test/media-disk.test.ts (files on disk) and test/media-s3.test.ts (a real S3-compatible server), against
// a real server with real HTTP and WebSocket clients. The server runs with IMPLUS_MAX_UPLOAD_BYTES =
// SUITE_MAX_UPLOAD and IMPLUS_UPLOAD_QUOTA_BYTES = SUITE_QUOTA (see SUITE_ENV).
import { randomBytes, randomUUID, createHash } from 'node:crypto'
import { connect as netConnect } from 'node:net'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { deflateSync, crc32 } from 'node:zlib'
import sharp from 'sharp'
import type { Test } from 'tap'
import { api, registerAndLogin, type TestServer } from './server.js'
import { expectOk, expectRefused } from './envelope.js'
import { loggedIn } from './clients.js'
import { MessageType, type DecodedFrame, type ImConnection } from '@implus/client'

export const SUITE_MAX_UPLOAD = 2 * 1024 * 1024
export const SUITE_QUOTA = 6 * 1024 * 1024
export const SUITE_ENV = {
  IMPLUS_MAX_UPLOAD_BYTES: String(SUITE_MAX_UPLOAD),
  IMPLUS_UPLOAD_QUOTA_BYTES: String(SUITE_QUOTA),
  IMPLUS_PRIVATE_CHAT: 'open'
}

export interface MediaSuiteTarget {
  readonly server: () => TestServer
  /** How many objects the store holds now: refused uploads must leave none behind. */
  readonly objects: () => Promise<number>
}

interface User { userId: string, token: string }

const IMAGE = 2
const FILE = 3
const VIDEO = 5

/** POST /api/files with these bytes. */
export async function upload (server: TestServer, token: string, name: string, bytes: Uint8Array, headers: Record<string, string> = {}): Promise<{ status: number, body: any }> {
  const res = await fetch(`${server.httpUrl}/api/files?name=${encodeURIComponent(name)}`, {
    method: 'POST', body: bytes, headers: { authorization: `Bearer ${token}`, ...headers }
  })
  return { status: res.status, body: await res.json() }
}

export async function uploaded (t: Test, server: TestServer, user: User, name: string, bytes: Uint8Array, headers: Record<string, string> = {}): Promise<any> {
  const res = await upload(server, user.token, name, bytes, headers)
  t.equal(res.status, 200, `upload of ${name}: 200 (${JSON.stringify(res.body)})`)
  return res.body.data
}

export async function download (server: TestServer, path: string, token?: string, headers: Record<string, string> = {}): Promise<{ status: number, headers: Headers, bytes: Buffer }> {
  const res = await fetch(server.httpUrl + path, { headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...headers } })
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) }
}

export async function photo (width = 640, height = 480): Promise<Buffer> {
  return await sharp({ create: { width, height, channels: 3, background: { r: 30, g: 120, b: 200 } } })
    .composite([{ input: Buffer.from(`<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${height / 3}" fill="orange"/></svg>`) }])
    .png().toBuffer()
}

/** A valid PNG of width × height one-bit pixels, all zero: a few KiB that would decode to width × height bytes. */
export function pngBomb (width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 1 // bit depth 1, colour type 0 (grey), deflate, filter 0, no interlace
  const rows = deflateSync(Buffer.alloc(height * (1 + Math.ceil(width / 8))), { level: 9 })
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', rows), chunk('IEND', Buffer.alloc(0))])
}

function sha256 (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** One series of the server's /metrics, by its exact name and labels as printed (0 when absent). */
async function metric (server: TestServer, series: string): Promise<number> {
  const text = await (await fetch(`${server.httpUrl}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(series + ' '))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

function spoolFiles (server: TestServer): string[] {
  return readdirSync(join(server.dataDir, 'media', 'tmp'))
}

export function mediaSuite (t: Test, target: MediaSuiteTarget): void {
  const open: ImConnection[] = []
  t.teardown(() => { for (const c of open) c.close() })
  const server = (): TestServer => target.server()
  const newUser = (): Promise<User> => registerAndLogin(server())
  const connect = (user: User): Promise<ImConnection> => loggedIn(server(), user, open)

  /** Sends a frame and waits for its 2007 or 1006. */
  async function send (c: ImConnection, frame: { type: number, toId?: string, conversationId?: string, content: string, contentType: number }): Promise<DecodedFrame> {
    const clientSeq = randomUUID()
    c.send({ ...frame, clientSeq })
    return await c.next(f => (f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED) && f.clientSeq === clientSeq)
  }

  t.test('an image: type from the bytes, size, SHA-256, dimensions and a thumbnail; the bytes come back', async t => {
    const alice = await newUser()
    const bytes = await photo(640, 480)
    // The client says PDF; the bytes say PNG, and they win.
    const file = await uploaded(t, server(), alice, 'sunset.png', bytes, { 'content-type': 'application/pdf' })
    t.match(file, { name: 'sunset.png', size: bytes.length, mimeType: 'image/png', sha256: sha256(bytes), width: 640, height: 480 })
    t.match(file.fileId, /^[1-9]\d*$/, 'fileId is a decimal string')
    t.match(file.thumbnailId, /^[1-9]\d*$/, 'a thumbnail was made')
    t.match(file.createTime, /^\d{4}-\d\d-\d\dT/, 'createTime is ISO 8601')
    const back = await download(server(), `/api/files/${file.fileId}`, alice.token)
    t.equal(back.status, 200)
    t.same(back.bytes, bytes, 'the same bytes')
    t.equal(back.headers.get('content-type'), 'image/png')
    t.equal(back.headers.get('etag'), `"${file.sha256}"`)
    t.equal(back.headers.get('content-disposition'), 'inline; filename="sunset.png"; filename*=UTF-8\'\'sunset.png', 'images show inline')
    const thumb = await download(server(), `/api/files/${file.thumbnailId}`, alice.token)
    t.equal(thumb.status, 200, 'the thumbnail downloads like any file')
    t.equal(thumb.headers.get('content-type'), 'image/webp')
    const meta = await sharp(thumb.bytes).metadata()
    t.same([meta.format, meta.width, meta.height], ['webp', 320, 240], 'a WebP that fits 320×320, proportions kept')
    t.same(spoolFiles(server()), [], 'no temporary file left')
  })

  t.test('metrics: bytes uploaded and downloaded, uploads by outcome, bytes and files stored', async t => {
    const alice = await newUser()
    const names = ['implus_media_upload_bytes_total', 'implus_media_download_bytes_total', 'implus_media_uploads_total{result="stored"}', 'implus_media_uploads_total{result="refused"}']
    const read = (): Promise<number[]> => Promise.all(names.map(n => metric(server(), n)))
    const before = await read()
    const bytes = randomBytes(50_000)
    const file = await uploaded(t, server(), alice, 'counted.bin', bytes)
    t.equal((await upload(server(), alice.token, '../refused.bin', bytes)).status, 400, 'and one refused')
    const back = await download(server(), `/api/files/${file.fileId}`, alice.token)
    t.equal(back.bytes.length, bytes.length)
    const after = await read()
    t.same(after.map((v, i) => v - before[i]!), [bytes.length, bytes.length, 1, 1], 'each counted once: upload bytes, download bytes, one stored, one refused')
    t.ok(await metric(server(), 'implus_media_stored_bytes') >= bytes.length, 'stored bytes include it')
    t.ok(await metric(server(), 'implus_media_stored_files') >= 1, 'and stored files')
  })

  t.test('a lying content type: script bytes declared as an image are stored, typed and served as what they are', async t => {
    const alice = await newUser()
    const bob = await newUser()
    const bytes = Buffer.from('<html><script>alert(document.cookie)</script></html>')
    const file = await uploaded(t, server(), alice, 'cat.png', bytes, { 'content-type': 'image/png' })
    t.equal(file.mimeType, 'application/octet-stream', 'sniffed, not believed')
    t.equal(file.width, null)
    t.equal(file.thumbnailId, null)
    const back = await download(server(), `/api/files/${file.fileId}`, alice.token)
    t.equal(back.headers.get('content-type'), 'application/octet-stream')
    t.match(back.headers.get('content-disposition'), /^attachment;/, 'a download, never rendered in this origin')
    t.equal(back.headers.get('x-content-type-options'), 'nosniff')
    t.match(back.headers.get('content-security-policy'), /sandbox/)
    const c = await connect(alice)
    const refused = await send(c, { type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: JSON.stringify({ fileId: file.fileId }), contentType: IMAGE })
    t.equal(refused.type, MessageType.MESSAGE_DELIVERY_FAILED, 'sent as an image: refused')
    t.equal(refused.errorCode, 400)
    t.match(refused.content, /is not an image the server could read \(application\/octet-stream\)/)
    const asFile = await send(c, { type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: JSON.stringify({ fileId: file.fileId }), contentType: FILE })
    t.equal(asFile.type, MessageType.MESSAGE_SEND_RECEIPT, 'as a file it goes')
  })

  t.test('refused uploads leave nothing behind: bomb, path-like name, too large, empty, no token', async t => {
    const alice = await newUser()
    const before = await target.objects()
    const bomb = pngBomb(10_000, 10_000)
    t.ok(bomb.length < 64 * 1024, `the bomb is ${bomb.length} bytes`)
    const bombed = await upload(server(), alice.token, 'bomb.png', bomb)
    t.equal(bombed.status, 400, 'decompression bomb: 400')
    t.match(bombed.body.message, /10000×10000 = 100000000 pixels, over the limit of 50000000/)

    for (const name of ['../../etc/passwd', '..\\..\\boot.ini', 'a/b.txt', '..', 'x\r\nset-cookie: a=b', '']) {
      const res = await upload(server(), alice.token, name, Buffer.from('hello'))
      t.equal(res.status, 400, `name ${JSON.stringify(name)}: 400`)
      t.match(res.body.message, /^name (must|is)/, `says why: ${res.body.message}`)
    }
    const noName = await fetch(`${server().httpUrl}/api/files`, { method: 'POST', body: 'x', headers: { authorization: `Bearer ${alice.token}` } })
    t.equal(noName.status, 400, 'no name at all: 400')

    const big = await upload(server(), alice.token, 'big.bin', randomBytes(SUITE_MAX_UPLOAD + 1))
    t.equal(big.status, 413, 'one byte over IMPLUS_MAX_UPLOAD_BYTES (Content-Length): 413')
    t.match(big.body.message, /IMPLUS_MAX_UPLOAD_BYTES/)
    const chunks = randomBytes(SUITE_MAX_UPLOAD + 1)
    const chunked = await fetch(`${server().httpUrl}/api/files?name=big.bin`, {
      method: 'POST',
      // A stream: no Content-Length, so the limit is found while reading.
      body: new ReadableStream({ start (c) { for (let i = 0; i < chunks.length; i += 256 * 1024) c.enqueue(chunks.subarray(i, i + 256 * 1024)); c.close() } }),
      duplex: 'half',
      headers: { authorization: `Bearer ${alice.token}` }
    } as RequestInit)
    t.equal(chunked.status, 413, 'chunked, over the limit: 413')
    const empty = await upload(server(), alice.token, 'empty.txt', Buffer.alloc(0))
    t.equal(empty.status, 400, 'empty: 400')
    const anonymous = await fetch(`${server().httpUrl}/api/files?name=a.txt`, { method: 'POST', body: 'x' })
    t.equal(anonymous.status, 401, 'no token: 401')
    t.equal(await target.objects(), before, 'no object stored')
    t.same(spoolFiles(server()), [], 'no temporary file left')
  })

  t.test('a truncated upload (client gone mid-body) keeps nothing', async t => {
    const alice = await newUser()
    const before = await target.objects()
    const s = server()
    const logged = s.logs.length
    const socket = netConnect(s.ports.http!, '127.0.0.1')
    await new Promise<void>(resolve => socket.once('connect', resolve))
    socket.write(`POST /api/files?name=half.bin HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${alice.token}\r\ncontent-length: 1000000\r\n\r\n`)
    socket.write(randomBytes(300_000))
    socket.destroy()
    const line = await s.waitForLog(l => l.msg === 'upload aborted by the client; nothing kept' && l.userId === alice.userId)
    t.ok(s.logs.indexOf(line) >= logged, 'the server logged the abort')
    t.ok(Number(line.received) <= 300_000, `it had ${String(line.received)} of the bytes`)
    t.same(spoolFiles(s), [], 'the temporary file is gone')
    t.equal(await target.objects(), before, 'no object stored')
  })

  t.test('one kept-alive connection serves requests after an upload and after a refused one', async t => {
    const alice = await newUser()
    const s = server()
    const socket = netConnect(s.ports.http!, '127.0.0.1')
    t.teardown(() => socket.destroy())
    await new Promise<void>(resolve => socket.once('connect', resolve))
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => { text += d })
    const answers = (n: number): Promise<string[]> => new Promise(resolve => {
      const check = (): void => {
        const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map(m => m[1]!)
        if (statuses.length >= n) {
          socket.off('data', check)
          resolve(statuses)
        }
      }
      socket.on('data', check)
      check()
    })
    // One request at a time, as keep-alive clients do (uWS does not pipeline behind an answer in progress).
    const body = randomBytes(600_000)
    const auth = `authorization: Bearer ${alice.token}\r\n`
    socket.write(`POST /api/files?name=a.bin HTTP/1.1\r\nhost: x\r\n${auth}content-length: ${body.length}\r\n\r\n`)
    socket.write(body)
    t.same(await answers(1), ['200'], 'the upload')
    socket.write(`POST /api/files?name=..%2Fb.bin HTTP/1.1\r\nhost: x\r\n${auth}content-length: 5\r\n\r\nhello`)
    t.same(await answers(2), ['200', '400'], 'a refused one, its small body read and dropped')
    socket.write(`GET /api/files/1 HTTP/1.1\r\nhost: x\r\n${auth}\r\n`)
    t.same(await answers(3), ['200', '400', '404'], 'and the next request, all on one connection')
  })

  t.test('the daily quota: refused by Content-Length before reading, and at the end of a chunked body', async t => {
    const alice = await newUser()
    const before = await target.objects()
    const part = SUITE_MAX_UPLOAD - 1000
    let used = 0
    while (used + part <= SUITE_QUOTA) {
      await uploaded(t, server(), alice, `part-${used}.bin`, randomBytes(part))
      used += part
    }
    const over = await upload(server(), alice.token, 'one-too-many.bin', randomBytes(part))
    t.equal(over.status, 429, 'over the quota: 429')
    t.match(over.body.message, new RegExp(`daily upload quota reached: ${used} of ${SUITE_QUOTA} bytes`))
    const bytes = randomBytes(part)
    const chunked = await fetch(`${server().httpUrl}/api/files?name=sneaky.bin`, {
      method: 'POST', body: new ReadableStream({ start (c) { c.enqueue(bytes); c.close() } }), duplex: 'half', headers: { authorization: `Bearer ${alice.token}` }
    } as RequestInit)
    t.equal(chunked.status, 429, 'no Content-Length: refused once read')
    t.equal(await target.objects(), before + used / part, 'only the accepted uploads are stored')
    const bob = await newUser()
    await uploaded(t, server(), bob, 'mine.bin', randomBytes(1000))
    t.pass('another user has a quota of their own')
  })

  t.test('downloads: the uploader, then members of conversations it was sent in; 404 before 403', async t => {
    const [alice, bob, carol, dave] = await Promise.all([newUser(), newUser(), newUser(), newUser()])
    const a = await connect(alice)
    const report = await uploaded(t, server(), alice, 'report.pdf', Buffer.concat([Buffer.from('%PDF-1.7\n'), randomBytes(2000)]))
    t.equal(report.mimeType, 'application/pdf')
    const path = `/api/files/${report.fileId}`
    t.equal((await download(server(), path, alice.token)).status, 200, 'the uploader')
    t.equal((await download(server(), path, bob.token)).status, 403, 'not sent to bob yet: 403')
    t.equal((await download(server(), '/api/files/1234567890123', bob.token)).status, 404, 'unknown id: 404')
    t.equal((await download(server(), '/api/files/abc', bob.token)).status, 400, 'not an id: 400')
    t.equal((await download(server(), path)).status, 401, 'no token: 401')

    const sent = await send(a, { type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: JSON.stringify({ fileId: report.fileId, name: 'Q3 report.pdf' }), contentType: FILE })
    t.equal(sent.type, MessageType.MESSAGE_SEND_RECEIPT, 'sent to bob')
    const got = await download(server(), path, bob.token)
    t.equal(got.status, 200, 'bob, the receiver, may now')
    t.match(got.headers.get('content-disposition'), /^attachment;/, 'a PDF downloads as an attachment')
    t.equal((await download(server(), path, carol.token)).status, 403, 'carol, outside the conversation: 403')

    const group = expectOk(t, await api(server(), 'POST', '/api/conversations/create', { conversationName: 'files', conversationType: 'GROUP', members: [carol.userId] }, alice.token), 'group')
    const pic = await uploaded(t, server(), alice, 'team.png', await photo(200, 100))
    const toGroup = await send(a, { type: MessageType.GROUP_CHAT, conversationId: group, content: JSON.stringify({ fileId: pic.fileId }), contentType: IMAGE })
    t.equal(toGroup.type, MessageType.MESSAGE_SEND_RECEIPT, 'sent to the group')
    t.equal((await download(server(), `/api/files/${pic.fileId}`, carol.token)).status, 200, 'a group member may')
    t.equal((await download(server(), `/api/files/${pic.thumbnailId}`, carol.token)).status, 200, 'and its thumbnail')
    t.equal((await download(server(), `/api/files/${pic.fileId}`, dave.token)).status, 403, 'a non-member may not')
    expectOk(t, await api(server(), 'POST', `/api/groups/${group}/members`, { userIds: [dave.userId] }, alice.token), 'dave joins')
    t.equal((await download(server(), `/api/files/${pic.fileId}`, dave.token)).status, 200, 'a member who joined later may (history is the group\'s)')
    expectOk(t, await api(server(), 'DELETE', `/api/groups/${group}/members/${carol.userId}`, undefined, carol.token), 'carol leaves')
    t.equal((await download(server(), `/api/files/${pic.fileId}`, carol.token)).status, 403, 'a member who left may no longer')
  })

  t.test('recall hides a file from everyone but its sender, signed URLs included', async t => {
    const [alice, bob] = await Promise.all([newUser(), newUser()])
    const a = await connect(alice)
    const pic = await uploaded(t, server(), alice, 'oops.png', await photo(100, 100))
    const sent = await send(a, { type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: JSON.stringify({ fileId: pic.fileId }), contentType: IMAGE })
    const signed = expectOk(t, await api(server(), 'POST', `/api/files/${pic.fileId}/url`, undefined, bob.token), 'bob\'s signed URL')
    t.equal((await download(server(), signed.url)).status, 200, 'bob\'s signed URL works before the recall')
    expectOk(t, await api(server(), 'POST', `/api/messages/${sent.uid}/recall`, undefined, alice.token), 'recall')
    t.equal((await download(server(), `/api/files/${pic.fileId}`, bob.token)).status, 403, 'the receiver: 403')
    t.equal((await download(server(), `/api/files/${pic.thumbnailId}`, bob.token)).status, 403, 'its thumbnail too')
    t.equal((await download(server(), signed.url)).status, 403, 'the signed URL checks again')
    t.equal((await download(server(), `/api/files/${pic.fileId}`, alice.token)).status, 200, 'the sender still may')
  })

  t.test('ranges, validators and HEAD', async t => {
    const alice = await newUser()
    const bytes = randomBytes(100_000)
    const file = await uploaded(t, server(), alice, 'data.bin', bytes)
    const path = `/api/files/${file.fileId}`
    const part = await download(server(), path, alice.token, { range: 'bytes=1000-1999' })
    t.equal(part.status, 206)
    t.equal(part.headers.get('content-range'), `bytes 1000-1999/${bytes.length}`)
    t.same(part.bytes, bytes.subarray(1000, 2000), 'exactly those bytes')
    const tail = await download(server(), path, alice.token, { range: 'bytes=-100' })
    t.same([tail.status, tail.bytes], [206, bytes.subarray(-100)], 'a suffix range')
    const beyond = await download(server(), path, alice.token, { range: `bytes=${bytes.length}-` })
    t.equal(beyond.status, 416, 'past the end: 416')
    t.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`)
    const stale = await download(server(), path, alice.token, { range: 'bytes=0-9', 'if-range': '"not-this-one"' })
    t.same([stale.status, stale.bytes.length], [200, bytes.length], 'If-Range that does not match: the whole file')
    const cached = await download(server(), path, alice.token, { 'if-none-match': `"${file.sha256}"` })
    t.same([cached.status, cached.bytes.length], [304, 0], 'If-None-Match: 304, no body')
    t.notOk(cached.headers.has('content-length'), '... and no Content-Length (it would have to be the file\'s)')
    t.equal(cached.headers.get('etag'), `"${file.sha256}"`)
    t.equal((await download(server(), path, alice.token)).headers.get('cache-control'), 'private, no-cache')
    const head = await fetch(server().httpUrl + path, { method: 'HEAD', headers: { authorization: `Bearer ${alice.token}` } })
    t.equal(head.status, 200)
    t.equal(head.headers.get('content-length'), String(bytes.length), 'HEAD: the length')
    t.equal((await head.arrayBuffer()).byteLength, 0, 'HEAD: no body')
  })

  t.test('signed URLs: for <img src> without a header, bound to the file and user, expiring', async t => {
    const [alice, bob] = await Promise.all([newUser(), newUser()])
    const pic = await uploaded(t, server(), alice, 'me.png', await photo(64, 64))
    const signed = expectOk(t, await api(server(), 'POST', `/api/files/${pic.fileId}/url`, undefined, alice.token), 'sign')
    t.match(signed.url, new RegExp(`^/api/files/${pic.fileId}\\?u=${alice.userId}&exp=\\d+&sig=`))
    t.ok(Date.parse(signed.expiresAt) > Date.now(), 'expires in the future')
    const got = await download(server(), signed.url)
    t.same([got.status, sha256(got.bytes)], [200, pic.sha256], 'no Authorization header needed')
    t.equal((await download(server(), signed.url.replace(`/api/files/${pic.fileId}`, `/api/files/${pic.thumbnailId}`))).status, 401, 'not for another file')
    t.equal((await download(server(), signed.url.replace(`u=${alice.userId}`, `u=${bob.userId}`))).status, 401, 'not for another user')
    t.equal((await download(server(), signed.url.replace(/exp=\d+/, 'exp=1000'))).status, 401, 'an altered expiry fails the signature')
    expectRefused(t, await api(server(), 'POST', `/api/files/${pic.fileId}/url`, undefined, bob.token), 403, 'no URL for a file one may not have')
  })

  t.test('media messages: the stored document has the server\'s facts; a bad item fails alone', async t => {
    const [alice, bob, mallory] = await Promise.all([newUser(), newUser(), newUser()])
    const [a, b] = await Promise.all([connect(alice), connect(bob)])
    const pic = await uploaded(t, server(), alice, 'beach.png', await photo(300, 200))
    const notMine = await uploaded(t, server(), mallory, 'secret.png', await photo(10, 10))
    const clip = await uploaded(t, server(), alice, 'clip.webm', Buffer.from('1a45dfa3a34286810142f7810142f2810442f381084282847765626d42878104428581021853806701ffffffffffffff', 'hex'))
    t.equal(clip.mimeType, 'video/webm', 'a WebM by its magic number')

    // One burst, one conversation, so one shard cycle: the bad ones must not take the good ones down.
    const frames = [
      { content: JSON.stringify({ fileId: pic.fileId, name: 'Beach day.png' }), contentType: IMAGE },
      { content: JSON.stringify({ fileId: notMine.fileId }), contentType: IMAGE },
      { content: JSON.stringify({ fileId: '987654321987' }), contentType: FILE },
      { content: JSON.stringify({ fileId: pic.fileId, size: 1 }), contentType: IMAGE },
      { content: 'just text, not a document', contentType: FILE },
      { content: JSON.stringify({ fileId: clip.fileId, duration: 4.5, thumbnailId: pic.fileId }), contentType: VIDEO }
    ].map(f => ({ ...f, type: MessageType.PRIVATE_CHAT, toId: bob.userId, clientSeq: randomUUID() }))
    for (const f of frames) a.send(f)
    const answers = await Promise.all(frames.map(f => a.next(x => (x.type === MessageType.MESSAGE_SEND_RECEIPT || x.type === MessageType.MESSAGE_DELIVERY_FAILED) && x.clientSeq === f.clientSeq)))
    t.same(answers.map(x => [x.type, x.errorCode]), [
      [MessageType.MESSAGE_SEND_RECEIPT, 0],
      [MessageType.MESSAGE_DELIVERY_FAILED, 400],
      [MessageType.MESSAGE_DELIVERY_FAILED, 400],
      [MessageType.MESSAGE_DELIVERY_FAILED, 400],
      [MessageType.MESSAGE_DELIVERY_FAILED, 400],
      [MessageType.MESSAGE_SEND_RECEIPT, 0]
    ], 'the good ones stored, each bad one refused on its own')
    t.match(answers[1]!.content, `file ${notMine.fileId} was not uploaded by you`)
    t.match(answers[2]!.content, 'file 987654321987 does not exist')
    t.match(answers[3]!.content, /size 1 does not match the file/)
    t.match(answers[4]!.content, /must be a JSON object naming an uploaded file/)

    const push = await b.next(f => f.type === MessageType.PRIVATE_CHAT && f.uid === answers[0]!.uid)
    t.equal(push.contentType, IMAGE)
    t.same(JSON.parse(push.content), { fileId: pic.fileId, name: 'Beach day.png', size: pic.size, mimeType: 'image/png', width: 300, height: 200, thumbnailId: pic.thumbnailId },
      'the receiver gets the completed document')
    const video = await b.next(f => f.type === MessageType.PRIVATE_CHAT && f.uid === answers[5]!.uid)
    t.same(JSON.parse(video.content), { fileId: clip.fileId, name: 'clip.webm', size: clip.size, mimeType: 'video/webm', thumbnailId: pic.fileId, duration: 4.5 }, 'a video with its poster and duration')
    const pulled = expectOk(t, await api(server(), 'POST', '/api/messages/pull-batch', { fromSeq: 0 }, bob.token), 'pull')
    t.same(pulled.messages.map((m: any) => [m.contentType, JSON.parse(m.content).fileId]), [[IMAGE, pic.fileId], [VIDEO, clip.fileId]], 'pull returns the same documents')
    t.equal((await download(server(), `/api/files/${pic.fileId}`, mallory.token)).status, 403, 'mallory still may not')

    const group = expectOk(t, await api(server(), 'POST', '/api/conversations/create', { conversationName: 'g', conversationType: 'GROUP', members: [bob.userId] }, alice.token), 'group')
    const toGroup = await send(a, { type: MessageType.GROUP_CHAT, conversationId: group, content: JSON.stringify({ fileId: pic.fileId }), contentType: IMAGE })
    const note = await b.next(f => f.type === MessageType.GROUP_MESSAGE_NOTIFICATION && f.uid === toGroup.uid)
    t.equal(note.content, '[image] beach.png', 'the 1007 preview names the kind and the file')
  })
}
