import { OP_WIDTH, OutKind, type OutboundBatch } from '../shards/thread-messages.js'
import { RemoteBatchWriter, RemoteKind, readRemoteBatch } from '../cluster/remote-wire.js'
import type { SessionRegistry } from './registry.js'
import type { RemoteDelivery } from '../cluster/ports.js'
import type { Metrics } from '../metrics.js'

const TO_ID_TAG = 0x22 // field 4 (toId), wire type 2

/** What a delivered tracked push needs on this host: the shard keeps its resend timer. */
export type TrackFn = (userId: string, frame: Uint8Array) => void

/**
 * Writes a shard's outbound batch to sockets, and in cluster mode forwards
 * what belongs to users on other hosts, one packed message per host. The
 * batch buffer is never reused, so frames go out as views of it; a group
 * notification is encoded once and only each member's toId is appended.
 */
export class Delivery {
  private readonly delivered

  constructor (private readonly registry: SessionRegistry, metrics: Metrics, private readonly remote: RemoteDelivery | null, private readonly track: TrackFn) {
    this.delivered = metrics.counter('implus_deliveries_total', 'Frames written to client connections.')
  }

  readonly shardBatch = (batch: OutboundBatch): void => {
    const { ops, data, users, memberLists } = batch
    const writers = this.remote === null ? null : new Map<string, RemoteBatchWriter>()
    for (let i = 0; i < ops.length; i += OP_WIDTH) {
      const kind = ops[i]!
      const frame = data.subarray(ops[i + 3]!, ops[i + 3]! + ops[i + 4]!)
      if (kind === OutKind.TO_CONN) {
        const conn = this.registry.connection(ops[i + 1]!)
        if (conn !== undefined) {
          conn.send(frame)
          this.delivered.value++
        }
      } else if (kind === OutKind.TO_MEMBERS) {
        const members = memberLists[ops[i + 1]!]!
        this.toMembers(members, frame)
        if (writers !== null) this.forwardMembers(writers, members, frame)
      } else {
        const userId = users[ops[i + 1]!]!
        this.toUser(userId, frame, ops[i + 2]!)
        if (writers === null) continue
        const nodes = this.remote!.nodesOf(userId)
        if (nodes === undefined) continue
        const remoteKind = kind === OutKind.TO_USER_TRACKED ? RemoteKind.USER_TRACKED : RemoteKind.USER
        for (const node of nodes) writerFor(writers, node).user(remoteKind, userId, frame)
      }
    }
    if (writers !== null) for (const [node, writer] of writers) this.remote!.deliver(node, writer.take())
  }

  /** A frame made on the main thread (friend requests, …) to every device of the user, on every host. */
  push (userId: string, frame: Uint8Array): void {
    this.toUser(userId, frame, -1)
    const nodes = this.remote?.nodesOf(userId)
    if (nodes === undefined) return
    for (const node of nodes) {
      const writer = new RemoteBatchWriter()
      writer.user(RemoteKind.USER, userId, frame)
      this.remote!.deliver(node, writer.take())
    }
  }

  /** A packed batch from another host: deliver to this host's devices. */
  readonly remoteBatch = (data: Buffer): void => {
    readRemoteBatch(data, ({ kind, userIds, frame }) => {
      if (kind === RemoteKind.MEMBERS) return this.toMembers(userIds, frame)
      const userId = userIds[0]!
      if (this.toUser(userId, frame, -1) > 0 && kind === RemoteKind.USER_TRACKED) this.track(userId, frame)
    })
  }

  private toUser (userId: string, frame: Uint8Array, skipConnId: number): number {
    const devices = this.registry.devices(userId)
    let sent = 0
    for (let d = 0; d < devices.length; d++) {
      if (devices[d]!.id === skipConnId) continue
      devices[d]!.send(frame)
      sent++
    }
    this.delivered.value += sent
    return sent
  }

  private toMembers (members: string[], frame: Uint8Array): void {
    // One buffer holds the copy (frame + its toId) of every member connected here: one allocation per
    // message, not per member, and none for members elsewhere (cluster mode lists the whole group).
    let size = 0
    for (let m = 0; m < members.length; m++) {
      if (this.registry.devices(members[m]!).length > 0) size += frame.length + 2 + members[m]!.length
    }
    if (size === 0) return
    const copies = new Uint8Array(size)
    let at = 0
    let sent = 0
    for (let m = 0; m < members.length; m++) {
      const member = members[m]!
      const devices = this.registry.devices(member)
      if (devices.length === 0) continue
      const end = writeWithToId(copies, at, frame, member)
      const copy = copies.subarray(at, end)
      at = end
      for (let d = 0; d < devices.length; d++) devices[d]!.send(copy)
      sent += devices.length
    }
    this.delivered.value += sent
  }

  private forwardMembers (writers: Map<string, RemoteBatchWriter>, members: string[], frame: Uint8Array): void {
    const byNode = new Map<string, string[]>()
    for (const member of members) {
      const nodes = this.remote!.nodesOf(member)
      if (nodes === undefined) continue
      for (const node of nodes) {
        let list = byNode.get(node)
        if (list === undefined) byNode.set(node, list = [])
        list.push(member)
      }
    }
    for (const [node, list] of byNode) writerFor(writers, node).members(list, frame)
  }
}

function writerFor (writers: Map<string, RemoteBatchWriter>, node: string): RemoteBatchWriter {
  let writer = writers.get(node)
  if (writer === undefined) writers.set(node, writer = new RemoteBatchWriter())
  return writer
}

/** Writes frame + toId (field 4) at `at`; returns the end. Protobuf lets a field follow the others. */
function writeWithToId (out: Uint8Array, at: number, frame: Uint8Array, userId: string): number {
  out.set(frame, at)
  at += frame.length
  // User ids are at most 19 ASCII digits, so the length fits one varint byte.
  out[at++] = TO_ID_TAG
  out[at++] = userId.length
  for (let c = 0; c < userId.length; c++) out[at++] = userId.charCodeAt(c)
  return at
}
