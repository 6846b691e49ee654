// Load generator for bench/private-chat.ts and bench/cluster-private.ts, in its own process. IPC:
// {t:'start', host, port, users, ports?} (ports: one per user, so a loader's users can spread over
// several hosts), {t:'step', rate, seconds} → {t:'result', ...}. Holds its users on WebSocket, sends
// private messages between them at the rate it is told, ACKs every push (batched) and measures
// send → delivery latency.
import { ImConnection, MessageType, type DecodedFrame } from '@implus/client'
import type { BenchUser } from './lib/population.js'
import { paced } from './lib/loaders.js'

interface Start { t: 'start', host: string, port: number, users: BenchUser[], ports?: number[] }
interface Step { t: 'step', rate: number, seconds: number }
type Command = Start | Step | { t: 'exit' }

const PARTNERS = 4
const PARTNER_STRIDE = 97

let conns: ImConnection[] = []
let users: BenchUser[] = []
const latencies: number[] = []
let delivered = 0
let receipts = 0
let refused = 0
let clientSeq = 0

function onFrame (conn: ImConnection, pendingAcks: string[]) {
  return (frame: DecodedFrame): void => {
    if (frame.type === MessageType.PRIVATE_CHAT) {
      if (frame.retry === 0) {
        delivered++
        latencies.push(Number(process.hrtime.bigint() - BigInt(frame.content)) / 1e6)
      }
      if (pendingAcks.length === 0) {
        setTimeout(() => {
          conn.send({ type: MessageType.BATCH_MESSAGE_ACK, content: pendingAcks.join(',') })
          pendingAcks.length = 0
        }, 20)
      }
      pendingAcks.push(frame.uid)
    } else if (frame.type === MessageType.MESSAGE_SEND_RECEIPT) receipts++
    else if (frame.type === MessageType.MESSAGE_DELIVERY_FAILED) refused++
  }
}

async function start (cmd: Start): Promise<void> {
  users = cmd.users
  const opened: ImConnection[] = []
  for (let at = 0; at < users.length; at += 200) {
    opened.push(...await Promise.all(users.slice(at, at + 200).map(async (user, i) => {
      const conn = await ImConnection.open({ transport: 'ws', host: cmd.host, port: cmd.ports?.[at + i] ?? cmd.port, record: false })
      const login = await conn.login(user.userId, user.token)
      if (login.errorCode !== 0) throw new Error(`login failed for ${user.userId}: ${login.errorCode}`)
      conn.onFrame(onFrame(conn, []))
      return conn
    })))
  }
  conns = opened
}

async function step (cmd: Step): Promise<void> {
  latencies.length = 0
  delivered = receipts = refused = 0
  // Each user talks with PARTNERS fixed others, as people do: conversations repeat.
  const sent = await paced(cmd.rate, cmd.seconds, () => {
    const from = Math.floor(Math.random() * conns.length)
    const to = (from + 1 + Math.floor(Math.random() * PARTNERS) * PARTNER_STRIDE) % conns.length
    conns[from]!.send({ type: MessageType.PRIVATE_CHAT, toId: users[to]!.userId, content: String(process.hrtime.bigint()), clientSeq: `b${process.pid}-${clientSeq++}` })
  })
  // Let what was sent in the last moments arrive before reporting.
  await new Promise(resolve => setTimeout(resolve, 1500))
  process.send!({ t: 'result', sent, delivered, receipts, refused, latencies })
}

process.on('message', (cmd: Command) => {
  if (cmd.t === 'start') start(cmd).then(() => process.send!({ t: 'ready' }), err => { console.error(err); process.exit(1) })
  else if (cmd.t === 'step') void step(cmd)
  else process.exit(0)
})
