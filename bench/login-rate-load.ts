// Load process for bench/login-rate.ts: `concurrency` loops, each opening a fresh connection from the
// next source address, logging in (2001 → 1001) with a token issued beforehand, and closing it, for a
// fixed time. {t:'run', host, port, transport, users, addresses, seconds, concurrency}
//   → {t:'result', logins, failed, seconds, hist} (hist: open + login latency, ms).
import { performance } from 'node:perf_hooks'
import { decodeFrame, MessageType } from '@implus/client'
import { RawConn, loginFrame, type RawTransport } from './lib/raw-client.js'
import { Histogram } from './lib/histogram.js'
import type { BenchUser } from './lib/population.js'

interface Run { t: 'run', host: string, port: number, transport: RawTransport, users: BenchUser[], addresses: string[], seconds: number, concurrency: number }

async function run (cmd: Run): Promise<unknown> {
  const hist = new Histogram()
  // Frames built once per user: the load process should spend its CPU on sockets.
  const frames = cmd.users.map(u => loginFrame(cmd.transport, u.userId, u.token))
  let logins = 0
  let failed = 0
  let next = 0
  let errors = new Map<string, number>()
  const started = performance.now()
  const until = started + cmd.seconds * 1000
  const loop = async (worker: number): Promise<void> => {
    // Each loop owns the users ≡ worker (mod concurrency): a user never has two logins at once.
    let turn = 0
    while (performance.now() < until) {
      const i = (worker + cmd.concurrency * turn++) % frames.length
      const t0 = performance.now()
      try {
        const conn = await RawConn.open({ transport: cmd.transport, host: cmd.host, port: cmd.port, localAddress: cmd.addresses[next++ % cmd.addresses.length] })
        await new Promise<void>((resolve, reject) => {
          conn.onFrame = (type, payload) => {
            if (type !== MessageType.LOGIN_RESPONSE) return
            const code = decodeFrame(payload).errorCode ?? 0
            if (code === 0) resolve()
            else reject(new Error(`login refused: ${code}`))
          }
          conn.onClose = () => reject(new Error('closed during login'))
          conn.write(frames[i]!)
        })
        hist.record(performance.now() - t0)
        logins++
        conn.onClose = () => {}
        conn.destroy()
      } catch (err) {
        failed++
        const key = (err as Error).message
        errors.set(key, (errors.get(key) ?? 0) + 1)
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    }
  }
  await Promise.all(Array.from({ length: cmd.concurrency }, (_, w) => loop(w)))
  const result = { t: 'result', logins, failed, errors: Object.fromEntries(errors), seconds: (performance.now() - started) / 1000, hist: hist.toJSON() }
  errors = new Map()
  return result
}

process.on('message', (cmd: Run | { t: 'exit' }) => {
  if (cmd.t === 'run') run(cmd).then(r => process.send!(r), err => { console.error(err); process.exit(1) })
  else process.exit(0)
})
