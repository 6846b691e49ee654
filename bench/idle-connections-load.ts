// Load process for bench/idle-connections.ts: holds its share of authenticated connections (raw
// clients, lib/raw-client.ts) spread over the source addresses it is given. Commands:
//   {t:'init', host, port, transport, users, addresses}          → {t:'ready'}
//   {t:'connect', concurrency}  open + 2001 → 1001 for every user → {t:'connected', ok, failed, retries, ms, hist}
//   {t:'close'}                 destroy every socket at once       → {t:'closed', ms}
//   {t:'heartbeat', seconds, depth}  2003 → 1003 as fast as allowed, `depth` in flight per connection
//                                                                  → {t:'heartbeats', count, seconds, hist}
import { performance } from 'node:perf_hooks'
import { decodeFrame, encodeFrame, MessageType } from '@implus/client'
import { RawConn, framed, loginFrame, type RawTransport } from './lib/raw-client.js'
import { Histogram } from './lib/histogram.js'
import type { BenchUser } from './lib/population.js'

interface Init { t: 'init', host: string, port: number, transport: RawTransport, users: BenchUser[], addresses: string[] }
type Command = Init | { t: 'connect', concurrency: number } | { t: 'close' } | { t: 'heartbeat', seconds: number, depth: number } | { t: 'exit' }

interface Slot {
  readonly user: BenchUser
  readonly address: string
  conn: RawConn | null
  sent: number[]
}

let init: Init
let slots: Slot[] = []
let heartbeat: Buffer
const hist = new Histogram()
let beating = false
let beats = 0
let depth = 1

function onFrame (slot: Slot) {
  return (type: number): void => {
    if (type !== MessageType.HEARTBEAT_RESPONSE) return
    const at = slot.sent.shift()
    if (at === undefined) return
    const now = performance.now()
    hist.record(now - at)
    beats++
    if (beating) {
      slot.sent.push(now)
      slot.conn!.write(heartbeat)
    }
  }
}

/** One connection logged in; retried (a storm can overflow the accept queue) up to 5 times. */
async function connectOne (slot: Slot): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    const started = performance.now()
    try {
      const conn = await RawConn.open({ transport: init.transport, host: init.host, port: init.port, localAddress: slot.address })
      await new Promise<void>((resolve, reject) => {
        conn.onFrame = (type, payload) => {
          if (type !== MessageType.LOGIN_RESPONSE) return
          const errorCode = decodeFrame(payload).errorCode ?? 0
          if (errorCode !== 0) reject(new Error(`login refused: ${errorCode}`))
          else resolve()
        }
        conn.onClose = () => reject(new Error('closed during login'))
        conn.write(loginFrame(init.transport, slot.user.userId, slot.user.token))
      })
      hist.record(performance.now() - started)
      conn.onFrame = onFrame(slot)
      conn.onClose = () => { if (slot.conn === conn) slot.conn = null }
      slot.conn = conn
      return attempt
    } catch (err) {
      if (attempt >= 5) throw err
      await new Promise(resolve => setTimeout(resolve, 100 * (attempt + 1)))
    }
  }
}

async function connectAll (concurrency: number): Promise<unknown> {
  hist.reset()
  const started = performance.now()
  let ok = 0
  let failed = 0
  let retries = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < slots.length) {
      const slot = slots[next++]!
      try {
        retries += await connectOne(slot)
        ok++
      } catch {
        failed++
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, slots.length) }, worker))
  return { t: 'connected', ok, failed, retries, ms: performance.now() - started, hist: hist.toJSON() }
}

async function closeAll (): Promise<unknown> {
  const started = performance.now()
  await Promise.all(slots.map(slot => new Promise<void>(resolve => {
    const conn = slot.conn
    if (conn === null) return resolve()
    conn.onClose = () => { slot.conn = null; resolve() }
    conn.destroy()
  })))
  return { t: 'closed', ms: performance.now() - started }
}

async function heartbeats (seconds: number, inFlight: number): Promise<unknown> {
  hist.reset()
  beats = 0
  depth = inFlight
  beating = true
  const started = performance.now()
  for (const slot of slots) {
    if (slot.conn === null) continue
    for (let i = 0; i < depth; i++) {
      slot.sent.push(performance.now())
      slot.conn.write(heartbeat)
    }
  }
  await new Promise(resolve => setTimeout(resolve, seconds * 1000))
  beating = false
  const count = beats
  const elapsed = (performance.now() - started) / 1000
  const result = { t: 'heartbeats', count, seconds: elapsed, hist: hist.toJSON() }
  // Let the round trips still in flight come back before the next phase.
  const deadline = Date.now() + 5000
  while (slots.some(s => s.sent.length > 0 && s.conn !== null) && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 50))
  for (const slot of slots) slot.sent.length = 0
  return result
}

process.on('message', (cmd: Command) => {
  const reply = (p: Promise<unknown>): void => { p.then(r => process.send!(r), err => { console.error(err); process.exit(1) }) }
  if (cmd.t === 'init') {
    init = cmd
    heartbeat = framed(cmd.transport, encodeFrame({ type: MessageType.HEARTBEAT }))
    slots = cmd.users.map((user, i) => ({ user, address: cmd.addresses[i % cmd.addresses.length]!, conn: null, sent: [] }))
    process.send!({ t: 'ready' })
  } else if (cmd.t === 'connect') reply(connectAll(cmd.concurrency))
  else if (cmd.t === 'close') reply(closeAll())
  else if (cmd.t === 'heartbeat') reply(heartbeats(cmd.seconds, cmd.depth))
  else process.exit(0)
})
