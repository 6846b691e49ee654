// Files and media messages in S3-compatible storage (s3rver, a real S3 API server), with two hosts in
// cluster mode: the shared suite (test/helpers/media-suite.ts) on host A, then what only a cluster shows —
// every host serves every file, and the sweep of unsent uploads runs on every host at once without harm.
import t from 'tap'
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { freePort, readSecrets, registerAndLogin, startServer, type LogLine, type TestServer } from './helpers/server.js'
import { killAllRedis, startRedis } from './helpers/redis.js'
import { startS3, stopS3, type S3Server } from './helpers/s3.js'
import { SUITE_ENV, download, mediaSuite, uploaded } from './helpers/media-suite.js'
import { loggedIn } from './helpers/clients.js'
import { MessageType, type ImConnection } from '@implus/client'

// Short enough to watch a sweep happen; every suite test uses its uploads at once or sends them.
const RETENTION_SECONDS = 4

let s3: S3Server
let client: S3Client
let A: TestServer
let B: TestServer

t.before(async () => {
  const [redis, storage] = await Promise.all([startRedis(), startS3()])
  s3 = storage
  client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } })
  const common = {
    ...SUITE_ENV,
    ...s3.env,
    REDIS_URL: redis.url,
    IMPLUS_JWT_SECRET: 'media-s3-test-secret-0123456789abcdef',
    IMPLUS_SHARDS: '2',
    IMPLUS_UPLOAD_RETENTION_SECONDS: String(RETENTION_SECONDS)
  }
  const pgPort = await freePort()
  A = await startServer({ env: { ...common, IMPLUS_NODE_ID: 'media-a', IMPLUS_EMBEDDED_PG_PORT: String(pgPort) } })
  const databaseUrl = `postgres://postgres:${encodeURIComponent(readSecrets(A.dataDir).embeddedPgPassword)}@127.0.0.1:${pgPort}/implus`
  B = await startServer({ env: { ...common, IMPLUS_NODE_ID: 'media-b', DATABASE_URL: databaseUrl } })
})

t.teardown(async () => {
  await B?.stop()
  await A?.stop()
  client?.destroy()
  await killAllRedis()
  if (s3 !== undefined) await stopS3(s3)
})

async function objectKeys (): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'implus/', ContinuationToken: token }))
    for (const o of page.Contents ?? []) keys.push(o.Key!)
    token = page.NextContinuationToken
  } while (token !== undefined)
  return keys
}

t.test('both hosts store files in S3', async t => {
  for (const host of [A, B]) t.equal(host.logs.find(l => l.msg === 'implus listening')!.files, 's3')
})

mediaSuite(t, { server: () => A, objects: async () => (await objectKeys()).length })

t.test('every host serves every file: uploaded through A, downloaded through B', async t => {
  const alice = await registerAndLogin(A)
  const bytes = randomBytes(300_000)
  const file = await uploaded(t, A, alice, 'shared.bin', bytes)
  const back = await download(B, `/api/files/${file.fileId}`, alice.token, { range: 'bytes=1000-1999' })
  t.same([back.status, back.bytes], [206, bytes.subarray(1000, 2000)], 'a range of it, through the other host')
  t.ok((await objectKeys()).includes(`implus/${file.fileId}`), 'the object is in the bucket under the prefix')
})

t.test('unsent uploads are swept after the retention, once, by whichever host claims them', async t => {
  const alice = await registerAndLogin(A)
  const bob = await registerAndLogin(A)
  const since = { A: A.logs.length, B: B.logs.length }
  const unsent = await uploaded(t, A, alice, 'forgotten.png', randomBytes(1000))
  const kept = await uploaded(t, B, alice, 'sent.bin', randomBytes(1000))
  const opened: ImConnection[] = []
  t.teardown(() => { for (const c of opened) c.close() })
  const a = await loggedIn(A, alice, opened)
  a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: JSON.stringify({ fileId: kept.fileId }), contentType: 3, clientSeq: 'sweep-test-1' })
  t.equal((await a.next(f => f.clientSeq === 'sweep-test-1')).type, MessageType.MESSAGE_SEND_RECEIPT, 'one of them is sent')

  // Each host sweeps every second here, and earlier tests left unsent uploads too: after each sweep that
  // deleted something, look whether it was this one.
  const deadline = Date.now() + 30_000
  let status = 200
  while (status !== 404 && Date.now() < deadline) {
    const swept = (host: TestServer, from: number): Promise<LogLine> =>
      host.waitForLog((l: LogLine) => l.msg === 'unsent uploads deleted' && host.logs.indexOf(l) >= from, deadline - Date.now())
    await Promise.race([swept(A, since.A), swept(B, since.B)])
    since.A = A.logs.length
    since.B = B.logs.length
    status = await statusOnBoth(unsent.fileId, alice.token)
  }
  t.equal(status, 404, 'the unsent upload is gone for good (404 on both hosts)')
  t.notOk((await objectKeys()).includes(`implus/${unsent.fileId}`), 'its object is deleted')
  t.equal((await download(B, `/api/files/${kept.fileId}`, bob.token)).status, 200, 'the sent one stays')
  const failures = [...A.logs, ...B.logs].filter(l => l.msg === 'sweep of unsent uploads failed; retried at the next one')
  t.same(failures, [], 'no sweep on either host failed')
})

/** The file's status, the same on both hosts (-1 if they disagree). */
async function statusOnBoth (fileId: string, token: string): Promise<number> {
  const [a, b] = await Promise.all([download(A, `/api/files/${fileId}`, token), download(B, `/api/files/${fileId}`, token)])
  return a.status === b.status ? a.status : -1
}
