// The BlobStore contract (src/media/store.ts), one suite run on both engines: files on disk, and S3 (a real
// S3-compatible server, s3rver, started here).
import t, { type Test } from 'tap'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { DiskStore } from '../src/media/disk-store.js'
import { S3Store } from '../src/media/s3-store.js'
import { MissingObjectError, type BlobStore } from '../src/media/store.js'
import { makeTempDir } from './helpers/server.js'
import { startS3, stopS3, type S3Server } from './helpers/s3.js'
import { freePort } from '../src/net.js'

let s3: S3Server
t.before(async () => { s3 = await startS3() })
t.teardown(() => stopS3(s3))

async function bytesOf (stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function spoolFile (dir: string, bytes: Buffer): string {
  const path = join(dir, randomBytes(6).toString('hex'))
  writeFileSync(path, bytes)
  return path
}

function s3Config (endpoint: string, bucket: string) {
  return { bucket, endpoint, region: 'us-east-1', accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true, prefix: 'contract/' }
}

const engines: Record<string, () => { store: BlobStore, spoolDir: string }> = {
  disk: () => ({ store: new DiskStore(makeTempDir('implus-blobs-')), spoolDir: makeTempDir('implus-spool-') }),
  s3: () => ({ store: new S3Store(s3Config(s3.endpoint, s3.bucket)), spoolDir: makeTempDir('implus-spool-') })
}

for (const [engine, make] of Object.entries(engines)) {
  t.test(`${engine}: the BlobStore contract`, async t => {
    const { store, spoolDir } = make()
    t.teardown(() => store.close())

    await t.test('a stored file reads back whole and by range; the spool file is consumed', async (t: Test) => {
      const bytes = randomBytes(100_000)
      const spool = spoolFile(spoolDir, bytes)
      await store.putFile('1001', spool, bytes.length, 'application/octet-stream')
      t.notOk(existsSync(spool), 'the spool file is gone')
      t.same(await bytesOf(await store.read('1001', 0, bytes.length - 1)), bytes, 'whole')
      t.same(await bytesOf(await store.read('1001', 10, 19)), bytes.subarray(10, 20), 'bytes 10-19')
      t.same(await bytesOf(await store.read('1001', bytes.length - 1, bytes.length - 1)), bytes.subarray(-1), 'the last byte')
    })

    await t.test('a file larger than one S3 part (multipart) keeps every byte in order', async (t: Test) => {
      const bytes = randomBytes(12 * 1024 * 1024 + 123)
      await store.putFile('1002', spoolFile(spoolDir, bytes), bytes.length, 'video/mp4')
      const back = await bytesOf(await store.read('1002', 0, bytes.length - 1))
      t.equal(back.length, bytes.length, 'same length')
      t.equal(createHash('sha256').update(back).digest('hex'), createHash('sha256').update(bytes).digest('hex'), 'same SHA-256')
      t.same(await bytesOf(await store.read('1002', 5 * 1024 * 1024 - 2, 5 * 1024 * 1024 + 1)), bytes.subarray(5 * 1024 * 1024 - 2, 5 * 1024 * 1024 + 2), 'a range across a part boundary')
    })

    await t.test('a missing object is a MissingObjectError; delete is idempotent', async (t: Test) => {
      await t.rejects(store.read('404404', 0, 0), MissingObjectError, 'never stored')
      const bytes = randomBytes(10)
      await store.putFile('1003', spoolFile(spoolDir, bytes), bytes.length, 'text/plain')
      await store.delete(['1003', '404404'])
      await t.rejects(store.read('1003', 0, 0), MissingObjectError, 'deleted')
      await store.delete(['1003'])
      t.pass('deleting again is no error')
    })
  })
}

t.test('s3: an unusable bucket or endpoint is reported at start, naming it', async t => {
  const missing = new S3Store(s3Config(s3.endpoint, 'no-such-bucket'))
  t.teardown(() => missing.close())
  await t.rejects(missing.check(), /S3 bucket 'no-such-bucket' at http:\/\/127\.0\.0\.1:\d+ is not usable: it does not exist/)
  await new S3Store(s3Config(s3.endpoint, s3.bucket)).check()
  t.pass('the configured bucket passes')
})

t.test('s3: a failed upload rejects, leaves no object and removes the spool file', async t => {
  const dead = new S3Store(s3Config(`http://127.0.0.1:${await freePort()}`, s3.bucket))
  t.teardown(() => dead.close())
  const spool = spoolFile(makeTempDir('implus-spool-'), randomBytes(1000))
  await t.rejects(dead.putFile('1004', spool, 1000, 'application/octet-stream'), 'nothing listens there')
  t.notOk(existsSync(spool), 'the spool file is gone')
  const live = new S3Store(s3Config(s3.endpoint, s3.bucket))
  t.teardown(() => live.close())
  await t.rejects(live.read('1004', 0, 0), MissingObjectError, 'no object was stored')
})
