/**
 * Which shard owns a conversation: FNV-1a (32-bit) over the id's UTF-16 code
 * units, then murmur3's fmix32 finaliser, modulo the shard count. Stable
 * across processes and hosts, so every host of a cluster (all run with the
 * same IMPLUS_SHARDS) agrees. The finaliser matters: raw FNV-1a modulo a
 * power of two depends only on the low bits of each character, and ids like
 * `private_{n}_{n+1}` would pile onto a few shards.
 */
export function shardOf (conversationId: string, shards: number): number {
  return (mix(fnv1a(conversationId)) >>> 0) % shards
}

export function fnv1a (text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

function mix (hash: number): number {
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35)
  hash ^= hash >>> 16
  return hash
}
