// DESIGN promise 6: under overload the server stays up with bounded queues and a clear error. Here
// PostgreSQL is frozen (SIGSTOP): no batch can commit, so frames pile up in the shard. Past the queue
// limit, sends are refused at once with 1006 503 while connections keep working; when PostgreSQL
// thaws, what was queued commits and new sends succeed.

import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { ImConnection, MessageType, type DecodedFrame } from '@implus/client'
import { api, registerAndLogin, runningPostmaster, startServer, waitFor, type TestServer } from './helpers/server.js'

const QUEUE_LIMIT = 20
let server: TestServer

t.before(async () => {
  server = await startServer({ env: { IMPLUS_SHARDS: '1', IMPLUS_SHARD_QUEUE_LIMIT: String(QUEUE_LIMIT), IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_RATE_LIMIT: '100000' } })
})
t.teardown(async () => {
  signalPostgres('SIGCONT')
  await server?.stop()
})

/** The embedded PostgreSQL's processes: its postmaster and every backend it forked. */
function postgresPids (): number[] {
  const postmaster = runningPostmaster(server.dataDir)
  if (postmaster === null) return []
  const pids = [postmaster]
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const parent = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
      if (parent === postmaster) pids.push(Number(entry))
    } catch {}
  }
  return pids
}

function signalPostgres (signal: NodeJS.Signals): void {
  for (const pid of postgresPids()) {
    try { process.kill(pid, signal) } catch {}
  }
}

const answer = (f: DecodedFrame): boolean => f.type === MessageType.MESSAGE_SEND_RECEIPT || f.type === MessageType.MESSAGE_DELIVERY_FAILED

t.test('a frozen database: sends beyond the queue limit get 503 at once; the host keeps serving and recovers', async t => {
  const [alice, bob] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const a = await ImConnection.open({ transport: 'tcp', host: '127.0.0.1', port: server.ports.tcp! })
  t.teardown(() => a.close())
  t.equal((await a.login(alice.userId, alice.token)).errorCode, 0, 'alice logs in')
  // Warm the caches and segments first, so the frozen phase needs nothing but commits.
  a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'warm-up', clientSeq: randomUUID() })
  t.equal((await a.next(answer)).type, MessageType.MESSAGE_SEND_RECEIPT, 'a first message is stored')

  signalPostgres('SIGSTOP')
  const N = 300
  const seqs = Array.from({ length: N }, () => randomUUID())
  for (let i = 0; i < N; i++) a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: `m${i}`, clientSeq: seqs[i] })
  // Everything past the queue (and the batches in flight) is answered now, not when the database returns.
  const firstRefusal = await a.next(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED, 10_000)
  t.equal(firstRefusal.errorCode, 503, 'a send beyond the queue limit is refused with 503')
  t.match(firstRefusal.content, /overloaded/, '... saying the server is overloaded')
  const pong = await a.heartbeat()
  t.equal(pong.content, 'pong', 'the connection still answers heartbeats while the database is frozen')
  const warning = await server.waitForLog(l => l.msg?.startsWith('shard queue full') === true, 10_000)
  t.match(warning, { level: 40, shard: 0, refused: Number }, 'the operator is told, with the shard and how many were refused')

  signalPostgres('SIGCONT')
  // Every send gets exactly one answer: a receipt (it was queued and is now committed) or a 503.
  const answered = new Map<string, DecodedFrame>([[firstRefusal.clientSeq, firstRefusal]])
  while (answered.size < N) {
    const f = await a.next(answer, 30_000)
    answered.set(f.clientSeq, f)
  }
  const stored = [...answered.values()].filter(f => f.type === MessageType.MESSAGE_SEND_RECEIPT).length
  const refused = [...answered.values()].filter(f => f.type === MessageType.MESSAGE_DELIVERY_FAILED && f.errorCode === 503).length
  t.equal(stored + refused, N, `every send answered: ${stored} stored after the thaw, ${refused} refused with 503`)
  t.ok(stored >= 1 && stored <= N - 1, 'some were queued and stored, the rest refused')

  const clientSeq = randomUUID()
  a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'after the thaw', clientSeq })
  const after = await a.next(f => answer(f) && f.clientSeq === clientSeq, 10_000)
  t.equal(after.type, MessageType.MESSAGE_SEND_RECEIPT, 'new sends are stored again')
})

t.test('PostgreSQL gone: HTTP answers 503 and sends 1006 503; the host stays up', async t => {
  const [alice, bob] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const a = await ImConnection.open({ transport: 'ws', host: '127.0.0.1', port: server.ports.ws! })
  t.teardown(() => a.close())
  t.equal((await a.login(alice.userId, alice.token)).errorCode, 0, 'alice logs in')

  const postmaster = runningPostmaster(server.dataDir)!
  process.kill(postmaster, 'SIGINT') // fast shutdown
  // PostgreSQL is not our child: nothing signals its exit to this process, so ask until it is gone.
  await waitFor(() => runningPostmaster(server.dataDir) === null, 30_000)
  const said = await server.waitForLog(l => l.msg === 'the embedded PostgreSQL exited on its own')
  t.equal(said.level, 50, 'the server says at once, as an error, that its PostgreSQL exited')

  const info = await api(server, 'GET', `/users/info/${bob.userId}`, undefined, alice.token)
  t.equal(info.status, 503, `an HTTP read answers 503 (${JSON.stringify(info.body)})`)
  t.equal(info.body.code, 503, '... in the envelope too')
  const clientSeq = randomUUID()
  a.send({ type: MessageType.PRIVATE_CHAT, toId: bob.userId, content: 'into the void', clientSeq })
  const refused = await a.next(f => answer(f) && f.clientSeq === clientSeq, 20_000)
  t.equal(refused.type, MessageType.MESSAGE_DELIVERY_FAILED, 'a send is refused, not lost in silence')
  t.equal(refused.errorCode, 503, '... with 503')
  t.equal((await a.heartbeat()).content, 'pong', 'the connection stays up')
  t.equal((await fetch(`${server.httpUrl}/healthz`)).status, 200, 'the process is alive')
})
