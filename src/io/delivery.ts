import { OP_WIDTH, OutKind, type OutboundBatch } from '../shards/thread-messages.js'
import type { SessionRegistry } from './registry.js'
import type { Metrics } from '../metrics.js'

const TO_ID_TAG = 0x22 // field 4 (toId), wire type 2

/**
 * Writes a shard's outbound batch to sockets. The batch buffer is never
 * reused, so frames go out as views of it without copying; group
 * notifications are encoded once per message and only the member's toId is
 * appended per delivery (protobuf fields may come in any order).
 */
export function createDelivery (registry: SessionRegistry, metrics: Metrics): (batch: OutboundBatch) => void {
  const delivered = metrics.counter('implus_deliveries_total', 'Frames written to client connections.')
  return batch => {
    const { ops, data, users, memberLists } = batch
    let count = 0
    for (let i = 0; i < ops.length; i += OP_WIDTH) {
      const kind = ops[i]!
      const frame = data.subarray(ops[i + 3]!, ops[i + 3]! + ops[i + 4]!)
      if (kind === OutKind.TO_CONN) {
        const conn = registry.connection(ops[i + 1]!)
        if (conn !== undefined) {
          conn.send(frame)
          count++
        }
      } else if (kind === OutKind.TO_USER) {
        const skip = ops[i + 2]!
        const devices = registry.devices(users[ops[i + 1]!]!)
        for (let d = 0; d < devices.length; d++) {
          if (devices[d]!.id !== skip) {
            devices[d]!.send(frame)
            count++
          }
        }
      } else {
        const members = memberLists[ops[i + 1]!]!
        for (let m = 0; m < members.length; m++) {
          const devices = registry.devices(members[m]!)
          if (devices.length === 0) continue
          const copy = withToId(frame, members[m]!)
          for (let d = 0; d < devices.length; d++) devices[d]!.send(copy)
          count += devices.length
        }
      }
    }
    delivered.value += count
  }
}

function withToId (frame: Uint8Array, userId: string): Uint8Array {
  // User ids are at most 19 ASCII digits, so the length fits one varint byte.
  const out = new Uint8Array(frame.length + 2 + userId.length)
  out.set(frame)
  let at = frame.length
  out[at++] = TO_ID_TAG
  out[at++] = userId.length
  for (let c = 0; c < userId.length; c++) out[at++] = userId.charCodeAt(c)
  return out
}
