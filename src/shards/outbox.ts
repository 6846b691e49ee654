import { OP_WIDTH, OutKind, type OutboundBatch } from './thread-messages.js'
import { sharedNow } from '../histogram.js'

/**
 * A shard's frames for the main thread, collected during a turn and posted
 * as one transferred buffer (see thread-messages.ts for the op layout).
 */
export class Outbox {
  private data = new Uint8Array(64 * 1024)
  private used = 0
  private ops: number[] = []
  private users: string[] = []
  private memberLists: string[][] = []
  private scheduled = false
  private since = 0

  constructor (private readonly post: (batch: OutboundBatch, transfer: ArrayBuffer[]) => void) {}

  toConn (connId: number, frame: Uint8Array): void {
    this.op(OutKind.TO_CONN, connId, 0, frame)
  }

  /** To every device of the user on this host, except `skipConnId` (the device that sent it). */
  toUser (userId: string, frame: Uint8Array, skipConnId = -1): void {
    this.users.push(userId)
    this.op(OutKind.TO_USER, this.users.length - 1, skipConnId, frame)
  }

  /** A push that waits for the user's ACK (resent by whichever host delivers it). */
  toUserTracked (userId: string, frame: Uint8Array): void {
    this.users.push(userId)
    this.op(OutKind.TO_USER_TRACKED, this.users.length - 1, -1, frame)
  }

  /** One encoded frame for many users; the main thread appends each member's id as toId. */
  toMembers (members: string[], frame: Uint8Array): void {
    this.memberLists.push(members)
    this.op(OutKind.TO_MEMBERS, this.memberLists.length - 1, 0, frame)
  }

  flush (): void {
    this.scheduled = false
    if (this.ops.length === 0) return
    const batch: OutboundBatch = {
      t: 'out',
      // A right-sized copy is transferred and the buffer kept: cheaper than a fresh zeroed one per flush.
      data: this.data.slice(0, this.used),
      ops: Int32Array.from(this.ops),
      users: this.users,
      memberLists: this.memberLists,
      since: this.since
    }
    this.used = 0
    this.ops = []
    this.users = []
    this.memberLists = []
    this.post(batch, [batch.data.buffer as ArrayBuffer])
  }

  private op (kind: number, a: number, b: number, frame: Uint8Array): void {
    if (this.used + frame.length > this.data.length) {
      const grown = new Uint8Array(Math.max(this.data.length * 2, this.used + frame.length))
      grown.set(this.data.subarray(0, this.used))
      this.data = grown
    }
    this.data.set(frame, this.used)
    this.ops.push(kind, a, b, this.used, frame.length)
    this.used += frame.length
    if (!this.scheduled) {
      this.scheduled = true
      this.since = sharedNow()
      setImmediate(() => this.flush())
    }
  }
}

export { OP_WIDTH }
