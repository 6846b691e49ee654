// Load process for bench/group-fanout.ts: holds its share of group members online over WebSocket
// (ImConnection) and records every 1007 of the conversation under test with its send → notification
// latency (content = the sender's process.hrtime.bigint(), a clock all processes share). Its senders
// send 3002 frames at the rate it is told. Commands:
//   {t:'start', host, port, users}                                         → {t:'ready'}
//   {t:'step', conversationId, senders: userId[], rate, seconds, perMessage} → {t:'result', sent, receipts,
//     refused, deliveries, hist, perMessage?: [content, slowest ms][]}
import { ImConnection, MessageType, type DecodedFrame } from '@implus/client'
import { Histogram } from './lib/histogram.js'
import type { BenchUser } from './lib/population.js'
import { paced } from './lib/loaders.js'

interface Start { t: 'start', host: string, port: number, users: BenchUser[] }
interface Step { t: 'step', conversationId: string, senders: string[], rate: number, seconds: number, perMessage: boolean }

const conns = new Map<string, ImConnection>()
const hist = new Histogram()
let current = ''
let trackPerMessage = false
const slowest = new Map<string, number>()
let deliveries = 0
let receipts = 0
let refused = 0
let clientSeq = 0

function onFrame (frame: DecodedFrame): void {
  if (frame.type === MessageType.GROUP_MESSAGE_NOTIFICATION) {
    if (frame.conversationId !== current) return
    const ms = Number(process.hrtime.bigint() - BigInt(frame.content)) / 1e6
    deliveries++
    hist.record(ms)
    if (trackPerMessage && (slowest.get(frame.content) ?? -1) < ms) slowest.set(frame.content, ms)
  } else if (frame.type === MessageType.MESSAGE_SEND_RECEIPT) receipts++
  else if (frame.type === MessageType.MESSAGE_DELIVERY_FAILED) refused++
}

async function start (cmd: Start): Promise<void> {
  for (let at = 0; at < cmd.users.length; at += 100) {
    await Promise.all(cmd.users.slice(at, at + 100).map(async user => {
      const conn = await ImConnection.open({ transport: 'ws', host: cmd.host, port: cmd.port, record: false })
      const login = await conn.login(user.userId, user.token)
      if (login.errorCode !== 0) throw new Error(`login failed for ${user.userId}: ${login.errorCode}`)
      conn.onFrame(onFrame)
      conns.set(user.userId, conn)
    }))
  }
}

async function step (cmd: Step): Promise<unknown> {
  current = cmd.conversationId
  trackPerMessage = cmd.perMessage
  hist.reset()
  slowest.clear()
  deliveries = receipts = refused = 0
  const senders = cmd.senders.map(id => conns.get(id)!)
  let sent = 0
  if (senders.length > 0 && cmd.rate > 0) {
    sent = await paced(cmd.rate, cmd.seconds, i => {
      senders[i % senders.length]!.send({ type: MessageType.GROUP_CHAT, conversationId: cmd.conversationId, content: String(process.hrtime.bigint()), clientSeq: `g${process.pid}-${clientSeq++}` })
    })
  } else {
    await new Promise(resolve => setTimeout(resolve, cmd.seconds * 1000))
  }
  // What was sent in the last moments still arrives: wait before reporting.
  await new Promise(resolve => setTimeout(resolve, 2000))
  current = ''
  return { t: 'result', sent, receipts, refused, deliveries, hist: hist.toJSON(), perMessage: cmd.perMessage ? [...slowest] : undefined }
}

process.on('message', (cmd: Start | Step | { t: 'exit' }) => {
  if (cmd.t === 'start') start(cmd).then(() => process.send!({ t: 'ready' }), err => { console.error(err); process.exit(1) })
  else if (cmd.t === 'step') step(cmd).then(r => process.send!(r), err => { console.error(err); process.exit(1) })
  else process.exit(0)
})
