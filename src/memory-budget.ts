/**
 * Every in-memory cache and table of implus with its bound, in one place so the
 * whole budget can be reviewed at once. Sizes are V8 heap estimates per entry
 * (a Map slot with its key string and value); the worst case is the sum over
 * this list, per host (main thread) or per shard (each worker).
 *
 * Bounds not listed here are bounds in bytes set by configuration: the shard
 * queue (IMPLUS_SHARD_QUEUE_LIMIT frames), resends (IMPLUS_RESEND_MAX_BYTES and
 * IMPLUS_RESEND_MAX_PER_USER), socket buffers (IMPLUS_MAX_BUFFERED_BYTES),
 * frames (IMPLUS_MAX_FRAME_BYTES), uploads (IMPLUS_MAX_UPLOAD_BYTES).
 */

// Main thread.
/** Token checks: each user's status and token version (≈ 150 B each: ≈ 30 MB). */
export const TOKEN_CACHE_ENTRIES = 200_000
/** Failed-login counters per user (≈ 120 B each: ≈ 12 MB). */
export const LOGIN_GUARD_ENTRIES = 100_000
/** Single-host sequence segments, one per active user and conversation key (≈ 150 B each: ≈ 150 MB). */
export const SEQ_SEGMENT_KEYS = 1_000_000

// Each shard worker.
/** Recent sends by (sender, clientSeq) for repeats within the window (≈ 250 B each: ≈ 500 MB at a flood's worst). */
export const IDEMPOTENCY_ENTRIES = 2_000_000
/** Users' facts and receivers' relations for permission checks, in estimated bytes (only users that exist). */
export const PERMISSION_CACHE_BYTES = 64 * 1024 * 1024
/** Group memberships, in estimated bytes (only groups that exist). */
export const MEMBER_CACHE_BYTES = 64 * 1024 * 1024
/** Sequence keys known to have a reserved segment, so their batch skips a round trip (≈ 100 B each: ≈ 20 MB). */
export const WARM_SEQ_KEYS = 200_000

/**
 * Keeps an insertion-ordered map within `max` entries: past it, the oldest go until 90 % is left, so
 * the next inserts do not trim again at once. `keep` spares entries still in use (they stay, and count).
 */
export function trimOldest<K, V> (map: Map<K, V>, max: number, keep?: (key: K) => boolean): void {
  if (map.size <= max) return
  let excess = map.size - Math.floor(max * 0.9)
  for (const key of map.keys()) {
    if (excess <= 0) break
    if (keep !== undefined && keep(key)) continue
    map.delete(key)
    excess--
  }
}
