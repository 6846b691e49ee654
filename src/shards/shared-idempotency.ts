import type { Redis } from 'ioredis'
import type { Receipt } from './shard.js'

const keyOf = (sender: string, clientSeq: string): string => `implus:idem:${sender}:${clientSeq}`

/**
 * Cluster mode: a client that resends after reconnecting to another host
 * must still get its first receipt, so receipts are also kept in Redis for
 * the idempotency window. One MGET per cycle, one pipelined SET per commit.
 */
export class SharedIdempotency {
  constructor (private readonly redis: Redis, private readonly windowMs: number) {}

  async find (keys: readonly (readonly [string, string])[]): Promise<(Receipt | null)[]> {
    if (keys.length === 0) return []
    const values = await this.redis.mget(keys.map(([s, c]) => keyOf(s, c)))
    return values.map(v => v === null ? null : JSON.parse(v) as Receipt)
  }

  async remember (entries: readonly (readonly [string, string, Receipt])[]): Promise<void> {
    if (entries.length === 0) return
    const pipeline = this.redis.pipeline()
    for (const [sender, clientSeq, receipt] of entries) pipeline.set(keyOf(sender, clientSeq), JSON.stringify(receipt), 'PX', this.windowMs)
    await pipeline.exec()
  }
}
