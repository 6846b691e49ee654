// Seeder for bench/pull-api.ts, in its own process: logs the given users in over WebSocket and sends
// `count` group messages to a group and `count` private messages from each sender to the next user,
// waiting for every send receipt. {t:'seed', host, port, users, conversationId, count} → {t:'seeded', sent}
import { ImConnection, MessageType } from '@implus/client'
import type { BenchUser } from './lib/population.js'

interface Seed { t: 'seed', host: string, port: number, users: BenchUser[], conversationId: string, count: number }

async function seed (cmd: Seed): Promise<number> {
  const conns = await Promise.all(cmd.users.map(async user => {
    const conn = await ImConnection.open({ transport: 'ws', host: cmd.host, port: cmd.port, record: false })
    const login = await conn.login(user.userId, user.token)
    if (login.errorCode !== 0) throw new Error(`login failed for ${user.userId}: ${login.errorCode}`)
    return conn
  }))
  let receipts = 0
  const expected = cmd.count * 2 * conns.length
  const done = new Promise<void>((resolve, reject) => {
    for (const conn of conns) {
      conn.onFrame(frame => {
        if (frame.type === MessageType.MESSAGE_SEND_RECEIPT) receipts++
        else if (frame.type === MessageType.MESSAGE_DELIVERY_FAILED) reject(new Error(`send refused: ${frame.errorCode} ${frame.content}`))
        else if (frame.type === MessageType.PRIVATE_CHAT) conn.send({ type: MessageType.MESSAGE_ACK, uid: frame.uid })
        if (receipts === expected) resolve()
      })
    }
  })
  // In windows of 200 per connection, so the seed never trips backpressure.
  for (let at = 0; at < cmd.count; at += 200) {
    const target = receipts + Math.min(200, cmd.count - at) * 2 * conns.length
    conns.forEach((conn, i) => {
      for (let n = at; n < Math.min(cmd.count, at + 200); n++) {
        conn.send({ type: MessageType.GROUP_CHAT, conversationId: cmd.conversationId, content: `group message ${n} from ${i}`, clientSeq: `pg-${i}-${n}` })
        conn.send({ type: MessageType.PRIVATE_CHAT, toId: cmd.users[(i + 1) % cmd.users.length]!.userId, content: `private message ${n} from ${i}`, clientSeq: `pp-${i}-${n}` })
      }
    })
    // eslint-disable-next-line no-unmodified-loop-condition -- receipts is counted by the frame handlers
    while (receipts < target) await Promise.race([done, new Promise(resolve => setTimeout(resolve, 20))])
  }
  await done
  for (const conn of conns) conn.close()
  return receipts
}

process.on('message', (cmd: Seed | { t: 'exit' }) => {
  if (cmd.t === 'seed') seed(cmd).then(sent => process.send!({ t: 'seeded', sent }), err => { console.error(err); process.exit(1) })
  else process.exit(0)
})
