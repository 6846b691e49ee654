export const ConnState = Object.freeze({
  /** Connected, no valid login yet: only 2001 is accepted. */
  NEW: 0,
  /** Token accepted, 1001 not yet sent: pushes are held so 1001 always comes first. */
  LOGGING_IN: 1,
  READY: 2,
  CLOSED: 3
})

const STARTED = Date.now()

/**
 * Connection times in tenths of a second since start: small integers, which V8
 * keeps inside the object. A millisecond timestamp is a heap-allocated double,
 * and lastSeen changes on every frame.
 */
const TICK_MS = 100

export function clockTicks (): number {
  return ((Date.now() - STARTED) / TICK_MS) | 0
}

export const TICKS_PER_SECOND = 1000 / TICK_MS

/** A duration in clockTicks() units. */
export const msToTicks = (ms: number): number => ms / TICK_MS

/** Connections with frames queued this turn, flushed together (one cork / one write per socket). */
const dirty: Connection[] = []
let flushScheduled = false

function flushDirty (): void {
  flushScheduled = false
  for (let i = 0; i < dirty.length; i++) dirty[i]!.flush()
  dirty.length = 0
}

/**
 * One client connection, whatever the transport: everything past src/io/
 * sees only this. Transports implement the write side; the gateway drives
 * the state machine.
 */
export abstract class Connection {
  state: number = ConnState.NEW
  userId = ''
  deviceId = ''
  /** clockTicks() at connect and at the last frame received. */
  readonly connectedAt: number
  lastSeen: number
  /** Per-connection rate limit (a token bucket, see Gateway.allow): tenths of a frame left, refilled at this tick. */
  rateTokens = 0
  rateRefilledAt = 0
  /** This turn's frames; null while there are none (most connections, most of the time). */
  protected pending: Uint8Array[] | null = null
  private held: Uint8Array[] | null = null

  constructor (readonly id: number) {
    this.connectedAt = this.lastSeen = clockTicks()
  }

  /** Queues a frame for this turn's write. The bytes must not change afterwards. */
  send (frame: Uint8Array): void {
    if (this.state === ConnState.CLOSED) return
    if (this.held !== null) {
      this.held.push(frame)
      return
    }
    if (this.pending === null) {
      this.pending = [frame]
      dirty.push(this)
      if (!flushScheduled) {
        flushScheduled = true
        queueMicrotask(flushDirty)
      }
    } else this.pending.push(frame)
  }

  /** Holds deliveries until release(): used between token check and 1001. */
  hold (): void {
    this.held ??= []
  }

  release (): void {
    const held = this.held
    this.held = null
    if (held !== null) for (const frame of held) this.send(frame)
  }

  flush (): void {
    const frames = this.pending
    this.pending = null
    if (frames !== null && this.state !== ConnState.CLOSED) this.write(frames)
  }

  /**
   * Sends what is queued, then closes: frames arriving afterwards are dropped (the gateway ignores a
   * CLOSED connection), and a peer that keeps its side open is cut off CLOSE_GRACE_MS later.
   */
  end (): void {
    this.flush()
    if (this.state === ConnState.CLOSED) return
    this.state = ConnState.CLOSED
    this.shutdown()
    if (!this.gone) setTimeout(() => { if (!this.gone) this.destroy() }, CLOSE_GRACE_MS).unref()
  }

  /** The transport reported the socket closed (Gateway.closed). */
  gone = false

  /** Writes frames to the socket; disconnects a reader whose buffer passed the bound. */
  protected abstract write (frames: Uint8Array[]): void
  /** Starts a graceful close once the queued frames are written. */
  protected abstract shutdown (): void
  /** Closes at once: the peer did not close its side in time. */
  protected abstract destroy (): void
}

/** How long a closing connection's peer has to read the last frames and close its side. */
export const CLOSE_GRACE_MS = 2000
