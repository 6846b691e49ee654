import type { Redis } from 'ioredis'
import type { Receipt, SharedReceipts } from './idempotency.js'

const keyOf = (sender: string, clientSeq: string): string => `implus:idem:${sender}:${clientSeq}`

/**
 * Cluster mode's SharedReceipts: kept in Redis for the idempotency window.
 * One MGET per cycle, one pipelined SET per commit.
 */
export class RedisReceipts implements SharedReceipts {
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
    // A pipeline reports each command's failure in its results, not by rejecting: the shard must hear of it.
    const failed = (await pipeline.exec())?.find(([err]) => err !== null)?.[0]
    if (failed instanceof Error) throw failed
  }
}
