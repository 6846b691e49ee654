import { reservationFor, type SeqEngine } from './engine.js'
import { reserveSections } from './sections.js'
import type { Sql } from '../db/connect.js'

interface Segment {
  /** Last number handed out. */
  last: number
  /** Committed upper bound: numbers up to here may be handed out. */
  max: number
}

const MAX_KEYS = 1_000_000

/**
 * Single-host engine: segments held in this process. The first use of a key
 * after start reserves a fresh segment above the committed bound, which is
 * how a restart resumes above every number used before.
 */
export class MemorySeqEngine implements SeqEngine {
  private readonly segments = new Map<string, Segment>()
  private queue: Promise<unknown> = Promise.resolve()

  constructor (private readonly sql: Sql) {}

  allocate (keys: readonly string[]): Promise<Float64Array> {
    // Calls run one after another: a reservation in flight must not let a later call overtake an earlier one.
    const result = this.queue.then(() => this.serve(keys))
    this.queue = result.catch(() => {})
    return result
  }

  async close (): Promise<void> {
    await this.queue
  }

  private async serve (keys: readonly string[]): Promise<Float64Array> {
    const need = new Map<string, number>()
    for (const key of keys) need.set(key, (need.get(key) ?? 0) + 1)
    const short: string[] = []
    const amounts: number[] = []
    for (const [key, count] of need) {
      const segment = this.segments.get(key)
      const available = segment === undefined ? 0 : segment.max - segment.last
      if (available < count) {
        short.push(key)
        amounts.push(reservationFor(count - available))
      }
    }
    if (short.length > 0) await this.reserve(short, amounts)
    const out = new Float64Array(keys.length)
    for (let i = 0; i < keys.length; i++) out[i] = ++this.segments.get(keys[i]!)!.last
    return out
  }

  private async reserve (keys: string[], amounts: number[]): Promise<void> {
    const bounds = await reserveSections(this.sql, keys, amounts)
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!
      const max = bounds.get(key)!
      const segment = this.segments.get(key)
      // A segment still holding numbers continues into the new one only if they are adjacent (no other
      // holder reserved in between); otherwise the leftover is abandoned and numbering jumps forward.
      if (segment !== undefined && segment.max === max - amounts[i]!) segment.max = max
      else this.segments.set(key, { last: max - amounts[i]!, max })
    }
    if (this.segments.size > MAX_KEYS) this.evictIdle()
  }

  /** Forgets the oldest keys; their next use reserves a new segment (numbers jump, never repeat). */
  private evictIdle (): void {
    let excess = this.segments.size - MAX_KEYS * 0.9
    for (const key of this.segments.keys()) {
      if (excess-- <= 0) break
      this.segments.delete(key)
    }
  }
}
