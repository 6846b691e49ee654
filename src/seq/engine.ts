/**
 * The sequence service: per-user `userSeq` (key `u:{userId}`) and
 * per-conversation `conversationSeq` (key `c:{conversationId}`).
 *
 * Contract every engine keeps:
 * - `allocate(keys)` returns one number per entry, in order; a key listed n
 *   times gets n consecutive numbers. Concurrent calls may be served in any
 *   order (a call waiting for a segment does not hold up the others): a caller
 *   that needs order between two calls awaits the first (each shard has one
 *   call in flight at a time).
 * - Per key, numbers strictly increase and are gap-free in normal running.
 * - Never reused, across crashes too: numbers come from segments (step
 *   SEGMENT_STEP) whose upper bound is committed to `sequence_section`
 *   before the first number of the segment is returned; after a restart (or
 *   lost Redis data) allocation resumes above the committed bound. A restart
 *   may therefore skip numbers; it never repeats one.
 * Engines: memory.ts (one host, the default) and redis.ts (cluster mode).
 */
export interface SeqEngine {
  allocate (keys: readonly string[]): Promise<Float64Array>
  /**
   * Makes sure each key has room for at least one more number, so that an
   * allocate soon after needs no reservation: lets a caller overlap the
   * reservation's database round trip with other work (a shard's checks, a login).
   */
  prepare (keys: readonly string[]): Promise<void>
  /**
   * The last number handed out for a key, if this engine has handed one out
   * since it (or its store) started; null when it does not know. It may be
   * ahead of what is committed by a batch still in flight.
   */
  latest (key: string): Promise<number | null>
  close (): Promise<void>
}

export const SEGMENT_STEP = 10_000

export const userSeqKey = (userId: string): string => `u:${userId}`
export const conversationSeqKey = (conversationId: string): string => `c:${conversationId}`
export const isConversationSeqKey = (key: string): boolean => key.startsWith('c:')

/** How much to reserve for a key that needs `need` more numbers: whole steps, at least one. */
export function reservationFor (need: number): number {
  return Math.max(1, Math.ceil(need / SEGMENT_STEP)) * SEGMENT_STEP
}
