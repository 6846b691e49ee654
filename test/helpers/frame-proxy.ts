// A TCP proxy between a client and the server's TCP port that sees whole frames (4-byte length prefix) and
// lets a test decide, frame by frame, what happens to each: pass, drop, duplicate, delay. It can also cut
// every connection at once. Used by the SDK tests to lose receipts and by the chaos test.

import { createServer, connect, type Server, type Socket } from 'node:net'
import { LengthPrefixDecoder, decodeFrame, encodeLengthPrefixed, type DecodedFrame } from '@implus/client/wire'

export type Direction = 'up' | 'down'

/** What to do with one frame: copies to send (0 = drop, 2 = duplicate) and the delay of each copy. */
export interface Verdict {
  delays: number[]
}

export type Policy = (frame: DecodedFrame | null, direction: Direction) => Verdict

export const PASS: Policy = () => ({ delays: [0] })

interface Pair {
  client: Socket
  upstream: Socket
  closed: boolean
}

export class FrameProxy {
  readonly server: Server
  port = 0
  policy: Policy = PASS
  /** Every frame seen, by direction, decoded (null when it does not decode). */
  readonly seen: { up: Array<DecodedFrame | null>, down: Array<DecodedFrame | null> } = { up: [], down: [] }
  connections = 0
  readonly #pairs = new Set<Pair>()
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor (private readonly targetPort: number, private readonly targetHost = '127.0.0.1') {
    this.server = createServer(client => this.#accept(client))
  }

  async listen (): Promise<number> {
    await new Promise<void>(resolve => this.server.listen(0, '127.0.0.1', resolve))
    const address = this.server.address()
    if (typeof address !== 'object' || address === null) throw new Error('proxy has no address')
    this.port = address.port
    return this.port
  }

  /** Closes every open connection (both sides), as a network cut would. */
  cutAll (): number {
    const n = this.#pairs.size
    for (const pair of [...this.#pairs]) this.#close(pair)
    return n
  }

  /** Closes one open connection chosen with `random`; false if none is open. */
  cutRandom (random: () => number): boolean {
    const pairs = [...this.#pairs]
    if (pairs.length === 0) return false
    this.#close(pairs[Math.floor(random() * pairs.length)])
    return true
  }

  get open (): number {
    return this.#pairs.size
  }

  /** Frames held back by a delay and not yet written. */
  get delayed (): number {
    return this.#timers.size
  }

  async close (): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.cutAll()
    await new Promise<void>(resolve => this.server.close(() => resolve()))
  }

  #accept (client: Socket): void {
    this.connections++
    client.setNoDelay(true)
    const upstream = connect({ host: this.targetHost, port: this.targetPort, noDelay: true })
    const pair: Pair = { client, upstream, closed: false }
    this.#pairs.add(pair)
    this.#pipe(pair, client, upstream, 'up')
    this.#pipe(pair, upstream, client, 'down')
    for (const socket of [client, upstream]) {
      socket.on('error', () => this.#close(pair))
      socket.on('close', () => this.#close(pair))
    }
  }

  #pipe (pair: Pair, from: Socket, to: Socket, direction: Direction): void {
    const decoder = new LengthPrefixDecoder(1 << 20)
    from.on('data', chunk => {
      decoder.push(chunk, bytes => {
        let frame: DecodedFrame | null = null
        try { frame = decodeFrame(bytes) } catch {}
        this.seen[direction].push(frame)
        const framed = encodeLengthPrefixed(Buffer.from(bytes))
        for (const delay of this.policy(frame, direction).delays) {
          if (delay <= 0) {
            if (!pair.closed) to.write(framed)
            continue
          }
          const timer = setTimeout(() => {
            this.#timers.delete(timer)
            if (!pair.closed) to.write(framed)
          }, delay)
          this.#timers.add(timer)
        }
      })
    })
  }

  #close (pair: Pair): void {
    if (pair.closed) return
    pair.closed = true
    this.#pairs.delete(pair)
    pair.client.destroy()
    pair.upstream.destroy()
  }
}
