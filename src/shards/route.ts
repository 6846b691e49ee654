/**
 * Which shard owns a conversation: FNV-1a (32-bit) over the id's UTF-16 code
 * units, modulo the shard count. Stable across processes and hosts, so every
 * host of a cluster (all run with the same IMPLUS_SHARDS) agrees.
 */
export function shardOf (conversationId: string, shards: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < conversationId.length; i++) {
    hash ^= conversationId.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % shards
}
