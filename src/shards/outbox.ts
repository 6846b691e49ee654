import { OP_WIDTH, OutKind, type OutboundBatch } from './thread-messages.js'
import { sharedNow } from '../histogram.js'
import { BytePacker } from './byte-packer.js'

/**
 * A shard's frames for the main thread, collected during a turn and posted
 * as one transferred buffer (see thread-messages.ts for the op layout).
 */
export class Outbox {
  private readonly bytes = new BytePacker()
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
      data: this.bytes.take(),
      ops: Int32Array.from(this.ops),
      users: this.users,
      memberLists: this.memberLists,
      since: this.since
    }
    this.ops = []
    this.users = []
    this.memberLists = []
    this.post(batch, [batch.data.buffer as ArrayBuffer])
  }

  private op (kind: number, a: number, b: number, frame: Uint8Array): void {
    this.ops.push(kind, a, b, this.bytes.append(frame), frame.length)
    if (!this.scheduled) {
      this.scheduled = true
      this.since = sharedNow()
      setImmediate(() => this.flush())
    }
  }
}

export { OP_WIDTH }
