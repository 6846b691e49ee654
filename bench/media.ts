// Files: upload and download throughput on local disk storage (the single-host default), and one image
// downloaded by the 1,000 members of a group at once.
// Part 1, uploads: --upload-mib MiB of random bytes per file (default 16) and a 1 MiB file, 1 and 4 uploads
//   at a time (each stream its own user: a user may run 4 at once), for --seconds S each; MB/s, p50/p99
//   per upload, server CPU. Plus a 12-megapixel JPEG: sniffed, measured and thumbnailed (sharp) per upload.
// Part 2, downloads: the 16 MiB file by its uploader over 1 and 16 keep-alive connections, --seconds
//   (bench/media-load.ts, a process of its own).
// Part 3: an image (and its thumbnail) sent to a group of --members (1,000); one connection per member,
//   all at once, each request carrying that member's token (membership is checked per download).
// The per-user HTTP rate limit is raised (IMPLUS_HTTP_RATE_LIMIT) and the daily quota off: the bench
// measures the server, not its limits. Load generators share the machine's 2 cores with the server.
// Options: --upload-mib N (16), --seconds S (5), --members N (1000).
import { parseArgs } from 'node:util'
import { randomBytes } from 'node:crypto'
import sharp from 'sharp'
import { api, freePort, startServer, type TestServer } from '../test/helpers/server.js'
import { createUsers, type BenchUser } from './lib/population.js'
import { ask, endAll, forkLoad } from './lib/loaders.js'
import { cpuSeconds, percentile, postgresCpuSeconds, printMachine, printResults, progress } from './lib/report.js'
import type { DownloadResult, DownloadRun } from './media-load.js'
import { ImClient, type FileInfo } from '@implus/client'

const { values } = parseArgs({
  options: {
    'upload-mib': { type: 'string', default: '16' },
    seconds: { type: 'string', default: '5' },
    members: { type: 'string', default: '1000' }
  }
})
const seconds = Number(values.seconds)
const bigBytes = Number(values['upload-mib']) * 2 ** 20
const members = Number(values.members)
const MB = 1e6
printMachine('media')
console.log(`# disk storage; uploads of ${values['upload-mib']} MiB and 1 MiB; downloads by 1 and 16 connections; one image to ${members} members; ${seconds} s a row`)

async function upload (server: TestServer, user: BenchUser, name: string, body: Buffer): Promise<FileInfo> {
  const res = await fetch(`${server.httpUrl}/api/files?name=${name}`, { method: 'POST', body, headers: { authorization: `Bearer ${user.token}` } })
  const answer = await res.json() as { data: FileInfo, message: string }
  if (res.status !== 200) throw new Error(`upload ${name}: ${res.status} ${answer.message}`)
  return answer.data
}

/** `streams` users upload `body` back to back for `seconds`; one row. */
async function uploadRow (server: TestServer, users: BenchUser[], streams: number, what: string, body: Buffer): Promise<Record<string, string | number>> {
  const pid = server.process.pid!
  const cpuBefore = cpuSeconds(pid)
  const started = Date.now()
  const times: number[] = []
  await Promise.all(users.slice(0, streams).map(async (user, s) => {
    for (let i = 0; Date.now() - started < seconds * 1000; i++) {
      const t0 = performance.now()
      await upload(server, user, `bench-${s}-${i}.bin`, body)
      times.push(performance.now() - t0)
    }
  }))
  const wall = (Date.now() - started) / 1000
  times.sort((a, b) => a - b)
  return {
    what,
    'at a time': streams,
    uploads: times.length,
    'uploads/s': Math.round(times.length / wall * 10) / 10,
    'MB/s': Math.round(times.length * body.length / MB / wall),
    'p50 ms': Math.round(percentile(times, 0.5)),
    'p99 ms': Math.round(percentile(times, 0.99)),
    'server cpu %': Math.round((cpuSeconds(pid) - cpuBefore) / wall * 100)
  }
}

const server = await startServer({
  env: {
    IMPLUS_EMBEDDED_PG_PORT: String(await freePort()),
    IMPLUS_HTTP_RATE_LIMIT: '1000000',
    IMPLUS_UPLOAD_QUOTA_BYTES: '0',
    IMPLUS_MAX_UPLOAD_BYTES: String(Math.max(bigBytes, 2 ** 20) + 1),
    IMPLUS_PRIVATE_CHAT: 'open'
  }
})
const loader = forkLoad('media-load', import.meta.url)
const pid = server.process.pid!
try {
  progress(`server up (pid ${pid}); creating ${members} users`)
  const users = await createUsers(server, members)
  const big = randomBytes(bigBytes)
  const small = randomBytes(2 ** 20)
  // A 4000×3000 photo-like JPEG (noise over a gradient, so it does not compress to nothing).
  const photo = await sharp(randomBytes(400 * 300 * 3), { raw: { width: 400, height: 300, channels: 3 } }).resize(4000, 3000, { kernel: 'cubic' }).jpeg({ quality: 85 }).toBuffer()

  progress('uploads')
  const uploads = []
  for (const streams of [1, 4]) uploads.push(await uploadRow(server, users, streams, `${values['upload-mib']} MiB random`, big))
  for (const streams of [1, 4]) uploads.push(await uploadRow(server, users, streams, '1 MiB random', small))
  for (const streams of [1, 2]) uploads.push(await uploadRow(server, users, streams, `JPEG 4000×3000 ${(photo.length / MB).toFixed(1)} MB`, photo))
  printResults('media-upload', uploads)

  progress('downloads of one large file')
  const owner = users[0]!
  const file = await upload(server, owner, 'big.bin', big)
  const downloads = []
  for (const connections of [1, 16]) {
    downloads.push(await downloadRow(`${values['upload-mib']} MiB file`, { connections, requests: [{ path: `/api/files/${file.fileId}`, token: owner.token }] }))
  }
  printResults('media-download', downloads)

  progress(`one image sent to a group of ${members}`)
  const group = await createGroup(server, owner, users.slice(1, members))
  const image = await sharp(randomBytes(160 * 120 * 3), { raw: { width: 160, height: 120, channels: 3 } }).resize(1600, 1200, { kernel: 'cubic' }).jpeg({ quality: 80 }).toBuffer()
  const client = await ImClient.connect({ httpUrl: server.httpUrl, host: '127.0.0.1', port: server.ports.ws!, transport: 'ws', userId: owner.userId, token: owner.token, sync: false })
  const sent = await client.sendGroupFile(group, image, { name: 'team-photo.jpg' })
  await client.close()
  const crowd = []
  for (const [what, fileId, size] of [['JPEG 1600×1200', sent.file.fileId, sent.file.size], ['its thumbnail', sent.file.thumbnailId!, 0]] as const) {
    const requests = users.slice(0, members).map(u => ({ path: `/api/files/${fileId}`, token: u.token }))
    const bytes = size > 0 ? size : (await (await fetch(`${server.httpUrl}/api/files/${fileId}`, { headers: { authorization: `Bearer ${owner.token}` } })).arrayBuffer()).byteLength
    crowd.push(await downloadRow(`${what}, ${(bytes / 1000).toFixed(0)} KB`, { connections: members, requests }))
  }
  printResults('media-download-crowd', crowd)
} finally {
  endAll([loader])
  await server.stop()
}

/** One download run in the load process, with the server's, PostgreSQL's and the loader's CPU over it. */
async function downloadRow (what: string, run: Pick<DownloadRun, 'connections' | 'requests'>): Promise<Record<string, string | number>> {
  const pgDir = `${server.dataDir}/pg`
  const before = { server: cpuSeconds(pid), pg: postgresCpuSeconds(pgDir), loader: cpuSeconds(loader.pid!) }
  const r = await ask<DownloadResult>(loader, { t: 'run', url: server.httpUrl, seconds, ...run })
  const cpu = (now: number, then: number): number => Math.round((now - then) / r.seconds * 100)
  return {
    what,
    connections: run.connections,
    downloads: r.downloads,
    'downloads/s': Math.round(r.downloads / r.seconds),
    'MB/s': Math.round(r.bytes / MB / r.seconds),
    'p50 ms': Math.round(percentile(r.latenciesMs, 0.5)),
    'p99 ms': Math.round(percentile(r.latenciesMs, 0.99)),
    'non-200': r.non200,
    errors: r.errors,
    'server cpu %': cpu(cpuSeconds(pid), before.server),
    'postgres cpu %': cpu(postgresCpuSeconds(pgDir), before.pg),
    'loader cpu %': cpu(cpuSeconds(loader.pid!), before.loader)
  }
}

async function createGroup (server: TestServer, owner: BenchUser, others: BenchUser[]): Promise<string> {
  const res = await api(server, 'POST', '/api/conversations/create', { conversationName: 'media-crowd', conversationType: 'GROUP', members: others.slice(0, 999).map(u => u.userId) }, owner.token)
  if (res.status !== 200) throw new Error(`create group: ${res.status} ${JSON.stringify(res.body)}`)
  const conversationId = res.body.data as string
  for (let at = 999; at < others.length; at += 1000) {
    const more = await api(server, 'POST', `/api/groups/${conversationId}/members`, { userIds: others.slice(at, at + 1000).map(u => u.userId) }, owner.token)
    if (more.status !== 200) throw new Error(`add members: ${more.status} ${JSON.stringify(more.body)}`)
  }
  return conversationId
}
