/**
 * 64-bit message ids: 41 bits of milliseconds since 2025-01-01, 6 bits of node
 * slot, 6 bits of shard, 11 bits of sequence within the millisecond.
 * The shard bits let the main thread route an ACK (which carries only the
 * msgId) to the shard whose timing wheel holds the resend, without a lookup.
 */
const EPOCH_MS = 1735689600000n
const SEQ_BITS = 11n
const SHARD_BITS = 6n
const NODE_BITS = 6n
const SEQ_MASK = (1 << Number(SEQ_BITS)) - 1
export const MAX_SHARDS = 1 << Number(SHARD_BITS)
export const MAX_NODE_SLOTS = 1 << Number(NODE_BITS)

export class Snowflake {
  private readonly worker: bigint
  private lastMs = 0
  private seq = 0

  constructor (nodeSlot: number, shard: number) {
    if (shard < 0 || shard >= MAX_SHARDS) throw new RangeError(`shard must be 0..${MAX_SHARDS - 1}`)
    if (nodeSlot < 0 || nodeSlot >= MAX_NODE_SLOTS) throw new RangeError(`node slot must be 0..${MAX_NODE_SLOTS - 1}`)
    this.worker = BigInt((nodeSlot << Number(SHARD_BITS)) | shard) << SEQ_BITS
  }

  next (): string {
    let now = Date.now()
    // A clock that steps back must not repeat ids: keep counting in the last millisecond.
    if (now <= this.lastMs) {
      now = this.lastMs
      this.seq = (this.seq + 1) & SEQ_MASK
      if (this.seq === 0) now = ++this.lastMs
    } else {
      this.lastMs = now
      this.seq = 0
    }
    return ((BigInt(now) - EPOCH_MS) << (SEQ_BITS + SHARD_BITS + NODE_BITS) | this.worker | BigInt(this.seq)).toString()
  }
}

/** The shard that created (and pushed) a message, read from its id. */
export function shardOfMsgId (msgId: string, shards: number): number {
  return Number((BigInt(msgId) >> SEQ_BITS) & BigInt(MAX_SHARDS - 1)) % shards
}

/** The smallest message id that can have been made at or after `ms`: time-bounded scans use the primary key. */
export function msgIdFloor (ms: number): string {
  return ((BigInt(Math.max(ms, Number(EPOCH_MS))) - EPOCH_MS) << (SEQ_BITS + SHARD_BITS + NODE_BITS)).toString()
}
